import { createHash } from 'node:crypto';

/**
 * Opens the register's pages and files (pictures, reports, lists) from GraphiQL with the token GraphiQL
 * holds: a page cannot be a plain link, because the token goes only in the Authorization header (never in
 * a URL or cookie). The bar above GraphiQL takes a path ("/incidents/<id>/report"), or a bare Supplier or
 * Incident ID (its picture); links to such paths in the docs explorer open the same way. This script
 * fetches the path with the headers of the active tab and opens the answer as a `blob:` URL: a page in a
 * new tab, a file as a download. Runs in the browser, served as a file (the GraphiQL page has no inline script).
 */
export const PAGE_OPENER = `(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  function authorizationIn(text) {
    try {
      var headers = JSON.parse(text || '{}');
      for (var key in headers) if (key.toLowerCase() === 'authorization') return String(headers[key]);
    } catch (e) { /* not JSON yet: the user is typing */ }
    return '';
  }
  // The headers as the user sees them: the headers editor (shown or hidden: GraphiQL keeps it mounted),
  // else the active tab's saved headers, else the defaults.
  function authorization() {
    var section = document.querySelector('section.graphiql-editor-tool[aria-label="Headers"]');
    var editor = section && section.querySelector('.graphiql-editor:not(.hidden) .CodeMirror');
    if (!editor) {
      // The tools pane holds the variables editor, then the headers editor.
      var editors = document.querySelectorAll('.graphiql-editor-tool .graphiql-editor');
      editor = editors.length > 1 ? editors[1].querySelector('.CodeMirror') : null;
    }
    if (editor && editor.CodeMirror) return authorizationIn(editor.CodeMirror.getValue());
    try {
      var state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
      var tab = state && state.tabs && state.tabs[state.activeTabIndex];
      if (tab && tab.headers) return authorizationIn(tab.headers);
    } catch (e) { /* no saved tabs */ }
    return authorizationIn(config.defaultHeaders);
  }
  var form = document.getElementById('page-opener');
  var output = document.getElementById('page-opener-status');
  // Only this server's own paths: the token must never travel anywhere else. An ID is enough for a
  // picture: base64url("Supplier:…") opens the chain, base64url("Incident:…") the exposure map.
  function pathOf(text) {
    text = String(text || '').trim().replace(/^"|"$/g, '');
    if (text.charAt(0) === '/') {
      return text.charAt(1) === '/' || text.charAt(1) === '\\\\' ? null : text;
    }
    try {
      var asUrl = new URL(text);
      if (asUrl.origin === window.location.origin) return asUrl.pathname + asUrl.search;
    } catch (e) { /* not a URL */ }
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text)) return null;
    var decoded = '';
    try { decoded = atob(text.replace(/-/g, '+').replace(/_/g, '/')); } catch (e) { return null; }
    if (decoded.indexOf('Supplier:') === 0) return '/suppliers/' + text + '/chain';
    if (decoded.indexOf('Incident:') === 0) return '/incidents/' + text + '/exposure-map';
    return null;
  }
  // Paths the docs explorer may link to: pages and files beside GraphQL, never GraphiQL's own.
  var PAGE_PATH = /^[/](suppliers|incidents|exposures|exports)[/]/;
  function open(path) {
    var target = window.open('', '_blank');
    output.textContent = 'Opening ' + path + '…';
    fetch(path, { headers: { authorization: authorization() }, credentials: 'omit', cache: 'no-store' })
      .then(function (response) {
        return response.blob().then(function (blob) { return { response: response, blob: blob }; });
      })
      .then(function (got) {
        var type = got.response.headers.get('content-type') || '';
        var disposition = got.response.headers.get('content-disposition') || '';
        if (!got.response.ok) {
          if (target) target.close();
          return got.blob.text().then(function (text) {
            var message = text;
            try { message = JSON.parse(text).errors[0].message; } catch (e) { /* not JSON */ }
            output.textContent = got.response.status + ': ' + message;
          });
        }
        var url = URL.createObjectURL(got.blob);
        // Pages and pictures open in a tab; anything else (a CSV, a workbook) is a download.
        var file = /attachment/i.test(disposition) || !/^(text[/]html|image[/]svg[+]xml)/.test(type);
        if (file) {
          if (target) target.close();
          var link = document.createElement('a');
          link.href = url;
          var name = /filename="([^"]+)"/.exec(disposition);
          link.download = name ? name[1] : path.split('/').pop();
          document.body.appendChild(link);
          link.click();
          link.remove();
        } else if (target) {
          target.opener = null;
          target.location.href = url;
        } else {
          window.location.href = url;
        }
        output.textContent = 'Opened ' + path;
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      })
      .catch(function (error) {
        if (target) target.close();
        output.textContent = 'Could not open ' + path + ': ' + error.message;
      });
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var path = pathOf(form.elements.path.value);
    if (!path) {
      output.textContent = 'Give a path on this server, starting with /, or a Supplier or Incident ID';
      return;
    }
    open(path);
  });
  // Links to pages anywhere in GraphiQL (the docs explorer's descriptions) open the same way.
  document.addEventListener('click', function (event) {
    var link = event.target && event.target.closest ? event.target.closest('a[href]') : null;
    if (!link) return;
    var path = pathOf(link.getAttribute('href'));
    if (!path || !PAGE_PATH.test(path)) return;
    event.preventDefault();
    open(path);
  }, true);
})();
`;

export const PAGE_OPENER_NAME = `page-opener.${createHash('sha256').update(PAGE_OPENER).digest('hex').slice(0, 12)}.js`;

/** The bar above GraphiQL (no inline script: PAGE_OPENER wires it). */
export const PAGE_OPENER_BAR = `<form id="page-opener" class="page-opener" autocomplete="off">
      <label for="page-opener-path">Open a picture, report or list with this tab's token</label>
      <input id="page-opener-path" name="path" type="text" spellcheck="false" placeholder="Supplier or Incident ID · /incidents/&lt;Incident id&gt;/report · /exposures/&lt;Exposure id&gt;/ico-report · /incidents/&lt;id&gt;/exposures.csv · /exposures.csv?overdue=true" />
      <button type="submit">Open</button>
      <output id="page-opener-status" aria-live="polite"></output>
    </form>`;

export const PAGE_OPENER_STYLE = `
      html, body { height: 100%; margin: 0; }
      body { display: flex; flex-direction: column; }
      #graphiql { flex: 1; min-height: 0; }
      .page-opener { display: flex; gap: .5rem; align-items: center; padding: .35rem .75rem; font: 13px system-ui, sans-serif; border-bottom: 1px solid #ddd; }
      .page-opener input { flex: 1; font: 13px ui-monospace, monospace; padding: .2rem .4rem; }
      .page-opener output { color: #555; max-width: 30%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }`;
