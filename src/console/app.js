// The console's shell: navigation, the token login, and the hash router
// (#/topics/orders?x=1) that renders one page at a time into <main>. A page
// is `render(view, params, query)`, may return a function that stops what it
// started (a tail, a metrics poll), and is stopped when the route changes.
import { getToken, setToken } from './api.js'
import { el, errorText, notice, replace } from './dom.js'
import { metricsAvailable, render as metricsPage } from './metrics.js'
import { render as clusterPage } from './page-cluster.js'
import { render as groupsPage, renderGroup } from './page-groups.js'
import { render as producePage } from './page-produce.js'
import { render as tailPage } from './page-tail.js'
import { render as topicPage } from './page-topic.js'
import { render as topicsPage } from './page-topics.js'

/** Route patterns; `*` matches one segment, passed to the page in order. */
const ROUTES = [
  { pattern: [], page: clusterPage, nav: 'cluster' },
  { pattern: ['topics'], page: topicsPage, nav: 'topics' },
  { pattern: ['topics', '*'], page: topicPage, nav: 'topics' },
  { pattern: ['tail'], page: tailPage, nav: 'tail' },
  { pattern: ['produce'], page: producePage, nav: 'produce' },
  { pattern: ['groups'], page: groupsPage, nav: 'groups' },
  { pattern: ['groups', '*'], page: renderGroup, nav: 'groups' },
  { pattern: ['metrics'], page: metricsPage, nav: 'metrics' }
]

const view = document.getElementById('view')
const nav = document.getElementById('nav')
const banner = document.getElementById('banner')
let stopPage = null
let generation = 0

function decodeSegment (s) {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function parseHash () {
  const hash = window.location.hash.replace(/^#\/?/, '')
  const q = hash.indexOf('?')
  const pathPart = q === -1 ? hash : hash.slice(0, q)
  const segments = pathPart === '' ? [] : pathPart.split('/').map(decodeSegment)
  return { segments, query: new URLSearchParams(q === -1 ? '' : hash.slice(q + 1)) }
}

function match (segments) {
  for (const r of ROUTES) {
    if (r.pattern.length !== segments.length) continue
    if (r.pattern.every((p, i) => p === '*' || p === segments[i])) {
      return { route: r, params: segments.filter((_, i) => r.pattern[i] === '*') }
    }
  }
  return null
}

async function show () {
  stopPage?.()
  stopPage = null
  const mine = ++generation
  const { segments, query } = parseHash()
  const found = match(segments)
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('current', found !== null && a.dataset.nav === found.route.nav)
  if (found === null) {
    replace(view, el('h1', {}, 'Not found'), el('p', {}, 'No such page in the console.'))
    return
  }
  // Each page renders into a container of its own: one that finishes after
  // the route changed again writes into a container no longer shown.
  const container = el('div', { class: 'page' }, el('p', { class: 'loading' }, 'Loading…'))
  view.replaceChildren(container)
  try {
    const stop = await found.route.page(container, found.params, query)
    if (typeof stop === 'function') {
      if (mine === generation) stopPage = stop
      else stop()
    }
  } catch (err) {
    if (mine !== generation) return
    replace(container, notice('error', errorText(err)))
  }
}

function loginForm () {
  const token = el('input', { type: 'password', name: 'token', placeholder: 'Bearer token', autocomplete: 'off', 'aria-label': 'Bearer token' })
  const signIn = el('button', { type: 'submit' }, 'Sign in')
  const signOut = el('button', { type: 'button' }, 'Sign out')
  const state = el('span', { class: 'auth-state' })
  const form = el('form', { class: 'login', 'data-testid': 'login' }, token, signIn, signOut, state)
  const sync = () => {
    const signedIn = getToken() !== ''
    token.hidden = signedIn
    signIn.hidden = signedIn
    signOut.hidden = !signedIn
    state.textContent = signedIn ? 'token set' : ''
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    setToken(token.value.trim())
    token.value = ''
  })
  signOut.addEventListener('click', () => setToken(''))
  window.addEventListener('console:auth', () => {
    sync()
    banner.replaceChildren()
    show()
  })
  sync()
  return form
}

window.addEventListener('console:unauthorized', () => {
  replace(banner, notice('error', getToken() === '' ? 'The proxy asks for a token: sign in with a bearer token.' : 'The proxy refused this token: sign in with another one.'))
})

document.getElementById('login').replaceWith(loginForm())
window.addEventListener('hashchange', show)
metricsAvailable().then((yes) => {
  nav.querySelector('[data-nav="metrics"]').hidden = !yes
})
show()
