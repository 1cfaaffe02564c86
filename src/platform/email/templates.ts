// Built-in email templates (Handlebars: {{x}} escapes, {{{x}}} does not).
// Every message is its template's body inside the layout, which carries the
// tenant's branding; a tenant may override a template's subject and bodies
// (not the layout). Each template declares the data it needs.

export interface TemplateData {
  'identity.verify-email': { name: string; link: string };
  'identity.password-reset': { name: string; link: string; expiresInMinutes: number };
  'identity.invitation': { inviterName: string; tenantName: string; role: string; link: string };
  'notifications.notice': { title: string; body: string; link?: string };
}
export type TemplateName = keyof TemplateData;

export interface TemplateSource {
  subject: string;
  html: string;
  text: string;
}

export const builtInTemplates: Record<TemplateName, TemplateSource> = {
  'identity.verify-email': {
    subject: 'Confirm your email address for {{brand.name}}',
    html: '<p>Hello {{name}},</p><p>Please confirm your email address:</p><p><a class="button" href="{{link}}">Confirm my address</a></p>',
    text: 'Hello {{name}},\n\nPlease confirm your email address by opening this link:\n{{link}}',
  },
  'identity.password-reset': {
    subject: 'Reset your {{brand.name}} password',
    html: '<p>Hello {{name}},</p><p>Someone asked to reset your password. The link is valid for {{expiresInMinutes}} minutes:</p><p><a class="button" href="{{link}}">Choose a new password</a></p><p>If it was not you, ignore this message.</p>',
    text: 'Hello {{name}},\n\nSomeone asked to reset your password. This link is valid for {{expiresInMinutes}} minutes:\n{{link}}\n\nIf it was not you, ignore this message.',
  },
  'identity.invitation': {
    subject: '{{inviterName}} invited you to {{tenantName}}',
    html: '<p>{{inviterName}} invited you to join <strong>{{tenantName}}</strong> as {{role}}.</p><p><a class="button" href="{{link}}">Accept the invitation</a></p>',
    text: '{{inviterName}} invited you to join {{tenantName}} as {{role}}.\n\nAccept the invitation:\n{{link}}',
  },
  'notifications.notice': {
    subject: '{{title}}',
    html: '<p><strong>{{title}}</strong></p><p>{{body}}</p>{{#if link}}<p><a class="button" href="{{link}}">Open</a></p>{{/if}}',
    text: '{{title}}\n\n{{body}}{{#if link}}\n\n{{link}}{{/if}}',
  },
};

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(builtInTemplates, name);

export const htmlLayout = `<!doctype html>
<html><head><meta charset="utf-8"><title>{{subject}}</title>
<style>a.button{display:inline-block;padding:10px 18px;border-radius:4px;background:{{brand.primaryColor}};color:#ffffff;text-decoration:none}</style></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" style="max-width:600px;margin:0 auto;background:#ffffff;border-top:4px solid {{brand.primaryColor}}"><tr><td style="padding:24px">
{{#if brand.logoUrl}}<img src="{{brand.logoUrl}}" alt="{{brand.name}}" height="40" style="display:block;margin-bottom:16px">{{else}}<h2 style="margin-top:0;color:{{brand.primaryColor}}">{{brand.name}}</h2>{{/if}}
{{{body}}}
<hr style="border:none;border-top:1px solid #e4e4e7;margin:24px 0 12px"><p style="font-size:12px;color:#71717a">{{brand.footer}}</p>
</td></tr></table></body></html>`;

export const textLayout = `{{{body}}}

--
{{{brand.name}}}{{#if brand.footer}}
{{{brand.footer}}}{{/if}}
`;
