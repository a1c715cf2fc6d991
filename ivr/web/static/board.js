// Live board: server-sent events from /events replace the board's HTML (rendered on the
// server, so the figures read the same as on first load). No library; the browser's
// EventSource reconnects by itself (the server asks for 1 s).
(function () {
  "use strict";
  var board = document.getElementById("board");
  var conn = document.getElementById("conn");
  if (!board || !window.EventSource) { return; }
  var updates = 0;
  function status(text, cls) { conn.textContent = text; conn.className = "conn " + cls; }
  var es = new EventSource(board.getAttribute("data-events"));
  es.addEventListener("open", function () { status("● в эфире · live", "live"); });
  es.addEventListener("error", function () { status("○ переподключение… · reconnecting", "lost"); });
  es.addEventListener("board", function (ev) {
    board.innerHTML = ev.data;
    updates += 1;
    board.setAttribute("data-updates", String(updates));
    status("● в эфире · live", "live");
  });
}());
