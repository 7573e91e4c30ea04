// Starts GraphiQL in #graphiql. The page passes its settings in data-*
// attributes, because the Content-Security-Policy forbids inline scripts.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var settings = root.dataset;
  // Entries in their original language, whatever the browser's: a query
  // picks a language with @lang, or an Accept-Language of the headers pane,
  // which wins over this one (docs/api.md, "Languages").
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint, headers: { 'Accept-Language': '*' } });
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
