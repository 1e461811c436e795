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
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={config.defaultQuery}
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders
    >
      <GraphiQL.Logo>{config.title}</GraphiQL.Logo>
      <HeadersPlaceholder text={config.headersPlaceholder} />
    </GraphiQL>,
  );
}

main();
