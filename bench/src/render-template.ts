/**
 * Replaces every `{{name}}` in a config template with `values[name]`. Strict both ways: a
 * placeholder without a value and a value without a placeholder are errors, so a renamed key
 * cannot silently leave `{{port}}` in an nginx config or a port unused.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const rendered = template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    used.add(name);
    return String(value);
  });
  if (missing.size > 0) throw new Error(`template placeholders without a value: ${[...missing].join(', ')}`);
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`template values without a placeholder: ${unused.join(', ')}`);
  return rendered;
}
