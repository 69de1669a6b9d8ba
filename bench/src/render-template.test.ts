import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from './render-template.js';

describe('renderTemplate', () => {
  it('substitutes every placeholder, repeated ones included', () => {
    expect(renderTemplate('listen {{ host }}:{{port}}; # {{port}}', { host: '127.0.0.1', port: 8080 })).toBe(
      'listen 127.0.0.1:8080; # 8080',
    );
  });

  it('names placeholders that have no value', () => {
    expect(() => renderTemplate('{{a}} {{b}} {{c}}', { a: 1 })).toThrow(
      'template placeholders without a value: b, c',
    );
  });

  it('names values that no placeholder uses', () => {
    expect(() => renderTemplate('{{a}}', { a: 1, stray: 2 })).toThrow(
      'template values without a placeholder: stray',
    );
  });

  it('leaves other braces alone', () => {
    expect(renderTemplate('events { worker_connections {{n}}; }', { n: 64 })).toBe(
      'events { worker_connections 64; }',
    );
  });

  it.each([
    ['nginx.conf.tmpl', { dir: '/tmp/x', port: 1, backendPort: 2 }],
    ['haproxy.cfg.tmpl', { port: 1, backendPort: 2 }],
  ])('renders the shipped %s with exactly its documented values', async (file, values) => {
    const template = await readFile(new URL(`../templates/${file}`, import.meta.url), 'utf8');
    const rendered = renderTemplate(template, values);
    expect(rendered).not.toContain('{{');
    expect(rendered).toContain('127.0.0.1:1');
    expect(rendered).toContain('127.0.0.1:2');
  });
});
