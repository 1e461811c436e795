// Bootstrap for the offline GraphiQL page served by the Go package
// github.com/shopql/shopql/graphiql. The page carries no inline script: it
// only holds a JSON config element, which this bundle reads.
import { useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { useEditorContext } from '@graphiql/react';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'codemirror/addon/display/placeholder.js';
import 'graphiql/style.css';
import './page.css';

// Shows text in the headers editor while it is empty. The hint is a
// placeholder rather than default headers on purpose: a literal
// "Bearer <accessToken>" would be sent with every request (including schema
// introspection) and turn anonymous queries into token errors.
function HeadersPlaceholder({ text }) {
  const { headerEditor } = useEditorContext({ nonNull: true });
  useEffect(() => {
    if (!headerEditor || !text) return undefined;
    headerEditor.setOption('placeholder', text);
    return () => headerEditor.setOption('placeholder', '');
  }, [headerEditor, text]);
  return null;
}

// GraphiQL keeps tabs, query history and favourites in localStorage, where any script of the
// origin (and anyone at the browser later) can read them. Headers carry the bearer token, so none
// may be stored: shouldPersistHeaders={false} keeps them out of the tab state and drops the headers
// editor's own key, and this storage removes a "headers" entry from whatever else is written (the
// history plugin records each run's headers whatever that setting says).
function withoutHeaders(value) {
  try {
    return JSON.stringify(JSON.parse(value), (key, v) => (key === 'headers' ? undefined : v));
  } catch {
    return value; // not JSON (e.g. a pane size): holds no headers
  }
}

const headerlessStorage = {
  getItem: (key) => localStorage.getItem(key),
  setItem: (key, value) => {
    if (key.endsWith(':headers')) {
      localStorage.removeItem(key);
      return;
    }
    localStorage.setItem(key, withoutHeaders(value));
  },
  removeItem: (key) => localStorage.removeItem(key),
  get length() {
    return Object.keys(localStorage).filter((key) => key.startsWith('graphiql:')).length;
  },
  clear() {
    for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
  },
};

// Drops what earlier versions of this page stored: the headers editor's content and headers in
// tabs and history, bearer tokens included.
function forgetStoredHeaders() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith('graphiql:')) headerlessStorage.setItem(key, localStorage.getItem(key));
  }
}

function readConfig() {
  const el = document.getElementById('graphiql-config');
  if (!el) throw new Error('graphiql: no #graphiql-config element in the page');
  return JSON.parse(el.textContent);
}

function main() {
  const config = readConfig();
  const root = document.getElementById('graphiql');
  // Subscriptions go over a WebSocket to the same endpoint (graphql-transport-ws); the Headers tab
  // becomes connection_init's payload, so {"Authorization": "Bearer <accessToken>"} works for both.
  const subscriptionUrl = new URL(config.endpoint, window.location.href);
  subscriptionUrl.protocol = subscriptionUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetcher = createGraphiQLFetcher({ url: config.endpoint, subscriptionUrl: subscriptionUrl.href });
  forgetStoredHeaders();
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={config.defaultQuery}
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
      storage={headerlessStorage}
    >
      <GraphiQL.Logo>{config.title}</GraphiQL.Logo>
      <HeadersPlaceholder text={config.headersPlaceholder} />
    </GraphiQL>,
  );
}

main();
