// Loaded between require.js and html-manager's embed-amd.js. html-manager's modules
// (@jupyter-widgets/base, controls, html-manager) look for their icon fonts beside the
// address require.js gives each module: make that address this folder's html-manager/.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "") + "html-manager";
  require.config({
    paths: { "@jupyter-widgets": here, "@jupyter-widgets/html-manager/dist": here },
  });
})();
