import type { IncomingHttpHeaders } from 'node:http2';
import type { HeaderFields } from '../h2/stream.js';

/**
 * A call's request headers as header filters and balancers read them (the public extension API),
 * over the HPACK field list the HTTP/2 layer decoded. Reading one name scans the list (a dozen
 * fields), which costs a tenth of building the node:http2-shaped object; that object is built only
 * for the code that asks for it (`toObject`).
 *
 * Values are the ones node:http2 would show, so filters written against `IncomingHttpHeaders`
 * read the same strings: a repeated name joined with `, ` (`cookie` with `; `), `set-cookie` an
 * array.
 */
export class RequestHeaders {
  private object: IncomingHttpHeaders | undefined;

  /** `fields`: name, value, name, value, … with lower-case names, as HTTP/2 carries them. */
  constructor(private readonly fields: HeaderFields) {}

  /** Headers from an object (tests of filters and balancers, or callers that hold one). */
  static fromObject(
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  ): RequestHeaders {
    const fields: string[] = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const one of typeof value === 'string' ? [value] : value) fields.push(name.toLowerCase(), one);
    }
    return new RequestHeaders(fields);
  }

  /** The value of `name` (lower-case), as `toObject()[name]`; undefined when absent. */
  get(name: string): string | string[] | undefined {
    const fields = this.fields;
    let found = -1;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] !== name) continue;
      // A repeated name is rare: let the object say how node joins it.
      if (found >= 0) return this.toObject()[name];
      found = i + 1;
    }
    if (found < 0) return undefined;
    return name === 'set-cookie' ? this.toObject()[name] : fields[found];
  }

  /**
   * The headers as node:http2 presents them: one property per name, pseudo-headers included. Built
   * once per call, on first use; do not modify it (the route alone decides what the backend gets).
   */
  toObject(): IncomingHttpHeaders {
    if (this.object !== undefined) return this.object;
    const fields = this.fields;
    const headers: IncomingHttpHeaders = {};
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      const existing = headers[name];
      if (existing === undefined) {
        headers[name] = name === 'set-cookie' ? [value] : value;
      } else if (Array.isArray(existing)) {
        existing.push(value);
      } else {
        headers[name] = `${existing}${name === 'cookie' ? '; ' : ', '}${value}`;
      }
    }
    this.object = headers;
    return headers;
  }
}
