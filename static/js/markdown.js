// Message text is Markdown: markdown-it parses it (HTML off), and this module turns its tokens into DOM
// nodes itself. Nothing is ever assigned as HTML, so markup in a message can only ever become text; the
// tags come from a fixed list and the only attributes set are checked link targets and list starts.
import MarkdownIt from 'markdown-it';
import { h } from './dom.js';
import { t } from './i18n.js';

// Chat, not documents: no headings, tables, rules or images (a "# " line or "---" stays as typed, and
// nothing loads from another server); a single newline is a line break, as in every chat.
const parser = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false })
  .disable(['heading', 'lheading', 'table', 'hr', 'image', 'reference']);
parser.linkify.set({ fuzzyLink: true });

const BLOCK_TAGS = new Set(['p', 'blockquote', 'ul', 'ol', 'li']);
const INLINE_TAGS = new Set(['strong', 'em', 's', 'a']);
const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** The link target when it is one a click may open (http, https, mailto), else null. */
export function safeHref(href) {
  try {
    const url = new URL(href, window.location.href);
    return SAFE_SCHEMES.has(url.protocol) && /^(https?:|mailto:)/i.test(href) ? url.href : null;
  } catch {
    return null;
  }
}

/** A fenced or indented code block with a button that copies its text. */
function codeBlock(token) {
  const language = token.info.trim().split(/\s+/)[0];
  const code = h('code', { dataset: language ? { language } : {} }, token.content.replace(/\n$/, ''));
  const status = h('span', { className: 'copy-status', role: 'status' });
  const copy = h('button', {
    type: 'button', className: 'copy-code', onClick: async () => {
      try {
        await navigator.clipboard.writeText(code.textContent);
        status.textContent = t('markdown.copied');
      } catch {
        status.textContent = t('markdown.copyRefused');
      }
      setTimeout(() => { status.textContent = ''; }, 2000);
    },
  }, t('markdown.copy'));
  return h('div', { className: 'code-block' }, h('pre', {}, code), copy, status);
}

/**
 * ``text`` (Markdown source) as a DocumentFragment. ``plain(text)`` renders the words between markup
 * (mention highlighting); link text is rendered as is.
 */
export function renderMarkdown(text, plain = (words) => document.createTextNode(words)) {
  const root = document.createDocumentFragment();
  const stack = [root];
  const top = () => stack[stack.length - 1];
  const walk = (tokens) => {
    tokens.forEach((token, i) => {
      if (token.type === 'inline') {
        walk(token.children);
      } else if (token.nesting === 1) {
        // the paragraphs of a tight list item are hidden: their words go straight into the item
        stack.push(token.hidden ? top() : top().appendChild(openTag(token, tokens[i + 1])));
      } else if (token.nesting === -1) {
        if (stack.length > 1) stack.pop();
      } else {
        const leaf = leafNode(token, plain, stack.some((node) => node.tagName === 'A'));
        if (leaf) top().append(leaf);
      }
    });
  };
  walk(parser.parse(String(text), {}));
  return root;
}

/** A URL found in the words is a link when written with its scheme or "www." (as in Slack and Mattermost),
 * not every word with a dot in it ("setup.py"). */
function autolinked(text) {
  return /^(https?:\/\/|mailto:|www\.)/i.test(text) || /^[^\s@]+@[^\s@]+$/.test(text);
}

function openTag(token, next) {
  if (token.tag === 'a') {
    const found = token.markup === 'linkify';
    const href = found && !autolinked(next?.content || '') ? null : safeHref(token.attrGet('href') || '');
    // A refused target (javascript:, data:, a bare word) keeps its text but is no link.
    return href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank' }) : h('span');
  }
  if (token.tag === 'ol') {
    const start = Number.parseInt(token.attrGet('start') || '1', 10);
    return h('ol', Number.isFinite(start) && start !== 1 ? { start: String(start) } : {});
  }
  return BLOCK_TAGS.has(token.tag) || INLINE_TAGS.has(token.tag) ? h(token.tag) : h('span');
}

function leafNode(token, plain, inLink) {
  switch (token.type) {
    case 'text':
      return inLink ? document.createTextNode(token.content) : plain(token.content);
    case 'code_inline':
      return h('code', {}, token.content);
    case 'fence':
    case 'code_block':
      return codeBlock(token);
    case 'softbreak':
    case 'hardbreak':
      return document.createTextNode('\n'); // the text keeps white-space: pre-wrap, and copies as typed
    default:
      return token.content ? document.createTextNode(token.content) : null;
  }
}
