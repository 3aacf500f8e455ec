// Building the page. Everything the console shows comes from the API and may
// hold anything a Kafka client wrote (record keys, values, headers, group and
// client ids), so text only ever enters the page as text nodes and attribute
// values: nothing here parses HTML, and no caller is given a way to. The
// server's Content-Security-Policy (script-src 'self') is the second line.

/**
 * `el('td', { class: 'num' }, 'text', child)`: an element with attributes
 * (`on*` keys are event listeners, `false`/null/undefined values are left
 * out) and children (strings and numbers become text nodes, null is skipped,
 * arrays are flattened).
 */
export function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  setAttrs(node, attrs)
  append(node, children)
  return node
}

/** An SVG element (charts). */
export function svg (tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag)
  setAttrs(node, attrs)
  append(node, children)
  return node
}

function setAttrs (node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value)
    else if (name === 'href' && !isInternalHref(value)) throw new Error(`refusing link ${String(value)}`)
    else node.setAttribute(name, value === true ? '' : String(value))
  }
}

// Links are the console's own routes (#/…); a value from the API never
// becomes a javascript: or external URL.
function isInternalHref (value) {
  return typeof value === 'string' && value.startsWith('#/')
}

export function append (node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    node.append(child instanceof window.Node ? child : document.createTextNode(String(child)))
  }
  return node
}

/** Replaces the children of `node`. */
export function replace (node, ...children) {
  node.replaceChildren()
  return append(node, children)
}

/** A console route (`#/topics/orders?x=1`); each part is encoded, so any group or topic name is safe in it. */
export function route (parts, query = {}) {
  const search = new URLSearchParams(query).toString()
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}${search === '' ? '' : `?${search}`}`
}

/** A link to a console route. */
export function link (parts, ...children) {
  return el('a', { href: route(parts) }, ...children)
}

/** A table: `columns` are header labels, `rows` arrays of cells (strings or nodes) or ready `<tr>`s. */
export function table (columns, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c)))),
    el('tbody', {}, rows.map(row))
  )
}

/** A table row of cells: strings and nodes are wrapped in a `<td>`, a `<td>` is taken as it is. */
export function row (cells) {
  if (cells instanceof window.Node) return cells
  return el('tr', {}, cells.map((c) => c instanceof window.HTMLTableCellElement ? c : el('td', {}, c)))
}

/** A `<section>` with a heading. */
export function section (title, ...children) {
  return el('section', {}, el('h2', {}, title), ...children)
}

/** A labelled form field around `control`. */
export function field (label, control, hint) {
  return el('label', { class: 'field' }, el('span', {}, label), control, hint === undefined ? null : el('small', {}, hint))
}

/** A status line: `kind` is 'info', 'ok' or 'error'. */
export function notice (kind, ...children) {
  return el('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children)
}

/** The message of an error for the page. */
export function errorText (err) {
  return err instanceof Error ? err.message : String(err)
}
