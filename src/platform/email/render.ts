// Renders a message: the template (built-in or the tenant's override) into
// the layout, with the tenant's branding. Handlebars, because tenants edit
// templates: it is logic-less (no code runs from a template) and refuses
// prototype access by default. HTML escapes values; subject and text do not.
import Handlebars from 'handlebars';
import { htmlLayout, textLayout, type TemplateSource } from './templates.ts';

export interface Brand {
  name: string;
  logoUrl: string | null;
  primaryColor: string;
  footer: string;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

const hb = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

function compile(source: string, escape: boolean): Handlebars.TemplateDelegate {
  const key = `${escape ? 'h' : 't'}:${source}`;
  let fn = cache.get(key);
  if (!fn) {
    fn = hb.compile(source, { noEscape: !escape, strict: false });
    if (cache.size > 500) cache.clear(); // overrides are few; bound the cache anyway
    cache.set(key, fn);
  }
  return fn;
}

/** Throws with Handlebars' message when a (tenant-supplied) template does not parse. */
export function checkTemplate(source: TemplateSource): void {
  for (const part of [source.subject, source.html, source.text]) hb.precompile(part);
}

export function renderMessage(source: TemplateSource, brand: Brand, data: Record<string, unknown>): RenderedMessage {
  const vars = { ...data, brand };
  const subject = compile(source.subject, false)(vars).replace(/\s+/g, ' ').trim();
  const html = compile(htmlLayout, true)({ brand, subject, body: compile(source.html, true)(vars) });
  const text = compile(textLayout, false)({ brand, body: compile(source.text, false)(vars) });
  return { subject, html, text };
}
