// Starts GraphiQL in #graphiql. The page passes its settings in data-*
// attributes, because the Content-Security-Policy forbids inline scripts.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var settings = root.dataset;
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  var explorer = React.createElement(
    GraphiQL,
    {
      fetcher: fetcher,
      defaultQuery: settings.defaultQuery,
      defaultEditorToolsVisibility: false,
    },
    React.createElement(GraphiQL.Logo, null, settings.title),
  );
  ReactDOM.createRoot(root).render(explorer);
})();
