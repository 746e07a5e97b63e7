import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Express, Response } from 'express';
import { GRAPHIQL_TABS, GraphiqlTab } from './tabs';

/**
 * GraphiQL served entirely from npm packages' own files: users sit on closed networks, so the page
 * must not reach a CDN. The browser bundles are the UMD builds the packages publish (React 18,
 * GraphiQL 3, graphql-ws for subscriptions); the page itself has no inline script, so it runs under
 * a Content-Security-Policy that lets the browser load nothing from anywhere else.
 */

interface Asset {
  file: string;
  type: string;
}

/** A package's directory, found through its package.json (graphiql's `exports` hide the UMD files from require.resolve). */
function packageDir(name: string): { dir: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  return { dir: path.dirname(manifest), version };
}

/** Versioned URL segments so the bundles can be cached for ever and still change on upgrade. */
function vendorAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (pkg: string, files: [string, string][]) => {
    const { dir, version } = packageDir(pkg);
    for (const [relative, type] of files) {
      const file = path.join(dir, relative);
      if (!fs.existsSync(file)) throw new Error(`GraphiQL asset missing: ${file} (run npm ci)`);
      assets.set(`${pkg}@${version}/${path.basename(relative)}`, { file, type });
    }
  };
  add('react', [['umd/react.production.min.js', 'application/javascript']]);
  add('react-dom', [['umd/react-dom.production.min.js', 'application/javascript']]);
  add('graphql-ws', [['umd/graphql-ws.min.js', 'application/javascript']]);
  add('graphiql', [
    ['graphiql.min.js', 'application/javascript'],
    ['graphiql.min.css', 'text/css'],
    // graphiql.min.js names its source map index.umd.js.map (next to it); only developer tools ask for it.
    ['dist/index.umd.js.map', 'application/json'],
  ]);
  return assets;
}

/**
 * Runs in the browser. Reads its settings from a JSON block rather than from an inline script.
 * Subscriptions go over graphql-ws with the Authorization header from the headers editor as
 * connectionParams; a client per distinct token, so editing the token takes effect.
 */
const BOOTSTRAP = `(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var url = new URL(config.endpoint, window.location.href).toString();
  var wsUrl = url.replace(/^http/, 'ws');
  var fetchers = new Map();
  function authorizationOf(headers) {
    if (!headers) return '';
    for (var key in headers) {
      if (key.toLowerCase() === 'authorization') return String(headers[key]);
    }
    return '';
  }
  function fetcher(params, options) {
    var authorization = authorizationOf(options && options.headers);
    var forToken = fetchers.get(authorization);
    if (!forToken) {
      forToken = GraphiQL.createFetcher({
        url: url,
        wsClient: graphqlWs.createClient({ url: wsUrl, lazy: true, connectionParams: authorization ? { authorization: authorization } : {} }),
      });
      fetchers.set(authorization, forToken);
    }
    return forToken(params, options);
  }
  var props = { fetcher: fetcher, defaultEditorToolsVisibility: config.defaultHeaders ? 'headers' : false };
  if (config.defaultHeaders) props.defaultHeaders = config.defaultHeaders;
  // Each tab carries the headers too: GraphiQL gives a default tab no headers of its own.
  if (config.defaultTabs)
    props.defaultTabs = config.defaultTabs.map(function (tab) {
      return Object.assign({ headers: config.defaultHeaders || undefined }, tab);
    });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));

  // Pictures (/suppliers/<id>/chain, /incidents/<id>/exposure-map) need the token, which never goes in a
  // URL or a cookie: fetch the page with GraphiQL's headers and open what came back as a blob: URL.
  var PICTURE_PATH = new RegExp('^/(suppliers/[A-Za-z0-9_-]+/chain|incidents/[A-Za-z0-9_-]+/exposure-map)([.]svg)?$');
  function currentHeaders() {
    // The headers editor is the second editor of the tools pane (variables first), hidden or not.
    var editors = document.querySelectorAll('.graphiql-editor-tool .graphiql-editor');
    var headersEditor = editors.length > 1 && editors[1].querySelector('.CodeMirror');
    var text = headersEditor && headersEditor.CodeMirror ? headersEditor.CodeMirror.getValue() : config.defaultHeaders;
    try {
      var parsed = text ? JSON.parse(text) : {};
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch (error) {
      return {};
    }
  }
  // An ID is enough: base64url("Supplier:…") opens the chain, base64url("Incident:…") the exposure map.
  function picturePath(text) {
    text = String(text || '').trim().replace(/^"|"$/g, '');
    try {
      var asUrl = new URL(text, window.location.href);
      if (asUrl.origin === window.location.origin && PICTURE_PATH.test(asUrl.pathname)) return asUrl.pathname;
    } catch (error) {}
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return null;
    var decoded = '';
    try { decoded = atob(text.replace(/-/g, '+').replace(/_/g, '/')); } catch (error) { return null; }
    if (decoded.indexOf('Supplier:') === 0) return '/suppliers/' + text + '/chain';
    if (decoded.indexOf('Incident:') === 0) return '/incidents/' + text + '/exposure-map';
    return null;
  }
  function openPicture(path, status) {
    // Opened now, while the click still counts as the user's, then pointed at the picture once fetched.
    var opened = window.open('', '_blank');
    status.textContent = 'Loading ' + path + '…';
    fetch(path, { headers: currentHeaders(), credentials: 'omit', cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) {
            throw new Error((body.errors && body.errors[0] && body.errors[0].message) || response.statusText);
          }, function () { throw new Error(response.status + ' ' + response.statusText); });
        }
        return response.blob();
      })
      .then(function (blob) {
        var blobUrl = URL.createObjectURL(blob);
        if (opened) { opened.opener = null; opened.location.href = blobUrl; }
        else window.location.href = blobUrl;
        status.textContent = 'Opened ' + path;
        // The new window has loaded it by then; the URL is only a handle on this page's memory.
        setTimeout(function () { URL.revokeObjectURL(blobUrl); }, 60000);
      })
      .catch(function (error) {
        if (opened) opened.close();
        status.textContent = path + ': ' + error.message;
      });
  }
  var form = document.getElementById('picture-opener');
  var status = document.getElementById('picture-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var path = picturePath(form.elements.picture.value);
    if (!path) {
      status.textContent = 'Give a Supplier or Incident ID, or a picture path such as /suppliers/<id>/chain';
      return;
    }
    openPicture(path, status);
  });
  // Links to pictures anywhere in the page (the docs explorer's descriptions) open the same way.
  document.addEventListener('click', function (event) {
    var link = event.target && event.target.closest ? event.target.closest('a[href]') : null;
    if (!link) return;
    var path = picturePath(link.getAttribute('href'));
    if (!path) return;
    event.preventDefault();
    openPicture(path, status);
  }, true);
})();
`;

const BOOTSTRAP_NAME = `graphiql-init.${createHash('sha256').update(BOOTSTRAP).digest('hex').slice(0, 12)}.js`;

/** JSON that is safe inside a <script> element: no `</script>`, no `<!--`, no line separators that end JS strings. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The picture opener sits in the corner of the page, over GraphiQL's status bar, out of the editors' way. */
const PICTURE_FORM_STYLE =
  'position: fixed; right: 12px; bottom: 8px; z-index: 10; display: flex; gap: 6px; align-items: center; font: 12px system-ui, sans-serif; background: rgba(255,255,255,0.92); padding: 4px 8px; border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,0.2)';

export function graphiqlPage(
  base: string,
  names: { css: string[]; scripts: string[] },
  config: { endpoint: string; defaultHeaders: string | null; defaultTabs?: readonly GraphiqlTab[] },
): string {
  const css = names.css
    .map((name) => `    <link rel="stylesheet" href="${escapeHtml(`${base}/${name}`)}" />`)
    .join('\n');
  const scripts = names.scripts
    .map((name) => `    <script src="${escapeHtml(`${base}/${name}`)}"></script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Supplier risk register · GraphiQL</title>
    <link rel="icon" href="data:," />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
${css}
  </head>
  <body>
    <form id="picture-opener" style="${PICTURE_FORM_STYLE}">
      <label for="picture-input">Open picture</label>
      <input id="picture-input" name="picture" size="34" placeholder="Supplier or Incident ID, or /suppliers/…/chain" autocomplete="off" />
      <button type="submit">Open</button>
      <output id="picture-status" aria-live="polite"></output>
    </form>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="application/json" id="graphiql-config">${scriptSafeJson(config)}</script>
${scripts}
  </body>
</html>
`;
}

export function mountGraphiql(
  app: Express,
  options: { endpoint: string; headers: Record<string, string> },
): void {
  const base = '/graphiql/static';
  const assets = vendorAssets();
  const named = (pkg: string, file: string) =>
    [...assets.keys()].find((key) => key.startsWith(`${pkg}@`) && key.endsWith(`/${file}`))!;
  const defaultHeaders = Object.keys(options.headers).length
    ? JSON.stringify(options.headers, null, 2)
    : null;
  const page = graphiqlPage(
    base,
    {
      css: [named('graphiql', 'graphiql.min.css')],
      scripts: [
        named('react', 'react.production.min.js'),
        named('react-dom', 'react-dom.production.min.js'),
        named('graphql-ws', 'graphql-ws.min.js'),
        named('graphiql', 'graphiql.min.js'),
        BOOTSTRAP_NAME,
      ],
    },
    { endpoint: options.endpoint, defaultHeaders, defaultTabs: GRAPHIQL_TABS },
  );

  const security = (res: Response) => {
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Referrer-Policy', 'no-referrer');
  };

  app.get('/graphiql', (req, res) => {
    security(res);
    // The page may carry a token (the embedded demo's admin token): never cache it.
    res.set('Cache-Control', 'no-store');
    res.set('X-Frame-Options', 'DENY');
    // Everything comes from this server; the browser enforces it too. CodeMirror sets inline styles.
    // Older browsers do not count same-origin WebSockets as 'self', hence the explicit ws(s) origin.
    const host = /^[\w.-]+(:\d+)?$|^\[[\da-f:.]+\](:\d+)?$/i.test(req.headers.host ?? '')
      ? req.headers.host
      : null;
    res.set(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        `connect-src 'self'${host ? ` ws://${host} wss://${host}` : ''}`,
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    res.type('html').send(page);
  });

  app.get(`${base}/${BOOTSTRAP_NAME}`, (_req, res) => {
    security(res);
    res.set('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('application/javascript').send(BOOTSTRAP);
  });

  app.get(`${base}/:pkg/:file`, (req, res, next) => {
    const asset = assets.get(`${req.params.pkg}/${req.params.file}`);
    if (!asset) return next();
    security(res);
    res.type(asset.type);
    res.sendFile(asset.file, { maxAge: '365d', immutable: true, dotfiles: 'deny' });
  });
}
