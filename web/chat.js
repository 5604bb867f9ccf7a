// Partnership Advisor web chat: a small, accessible widget on Rasa's Socket.IO channel
// (channels/socketio.py), styled with GOV.UK Frontend (web/chat.scss). Everything from people
// and from the knowledge store is inserted as text (text nodes / textContent), never as HTML;
// only http(s) URLs become links. The advisor's lines become structure: "1. " lines an ordered
// list, "• " lines a bulleted list, a line ending in ":" before a list its lead paragraph.
// When the server cannot be reached, the page says so once per change (not at every attempt to
// reconnect), and a message it could not send is marked "Not sent" with a Retry button.
(function () {
  "use strict";

  // Without the Socket.IO client the chat cannot start: say so now (index.html shows the same
  // message on its own after a moment, for when this file is missing too) and leave the message
  // box disabled, so nothing typed goes anywhere.
  var unavailable = document.getElementById("unavailable");
  if (typeof window.io !== "function") {
    unavailable.classList.remove("chat-unavailable--delayed");
    return;
  }

  // sessionStorage, not localStorage: the conversation survives a reload but not closing the tab.
  var STORE_KEY = "partnership-advisor.chat";
  var GREETING = "/greet"; // asks the bot for its welcome and example questions; never shown
  var TYPING_TIMEOUT_MS = 20000;
  var BOT_NAME = "Partnership Advisor";
  var MAX_SCORE = 5;
  var PRESSING = 3; // health-check scores worth working on (actions/health_check.py)

  var log = document.getElementById("log");
  var end = document.getElementById("log-end");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var typing = document.getElementById("typing");
  var connection = document.getElementById("connection");
  var newMessages = document.getElementById("new-messages");
  var sendButton = document.getElementById("send");

  var state = restore();
  var ready = false; // true once the server confirmed our session
  var queue = []; // messages typed while connecting, sent when it is confirmed
  var pending = []; // messages sent and not yet acknowledged (the server acknowledges after answering)
  // "connecting" (opening the page), "connected", or "offline" (lost, or never reached: retrying).
  var connectionState = "connecting";
  var connectedBefore = false;
  var reconnected = ""; // after being offline, "Connected again." until the next message is sent
  var articles = new WeakMap(); // message -> its <article>
  var typingTimer = null;
  var answerStart = null; // first message of the answer being received
  var ids = 0;
  // Following the conversation: new answers are scrolled into view. Off while the person has
  // scrolled up to read; then new messages wait behind the "New messages" button.
  var follow = true;
  var firstUnseen = null;
  var ourScrollTop = null; // where we last scrolled the log to, to tell our scrolling from theirs

  function restore() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY));
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (ignored) { /* storage unavailable or corrupt: start afresh */ }
    return { token: null, greeted: false, messages: [] };
  }

  function persist() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (ignored) { /* private mode */ }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Text with bare http(s) URLs turned into links; nothing is ever parsed as HTML.
  function appendLinkified(parent, text) {
    var urls = /https?:\/\/[^\s<>"'`]+/g;
    var last = 0;
    var match;
    while ((match = urls.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation ends a sentence, not the URL
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = element("a", "govuk-link", url);
      link.href = url;
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = match.index + url.length;
      urls.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // The advisor's text as blocks: {type: "p", text}, {type: "ol", start, items}, {type: "ul", items};
  // a list item's indented lines ("  Try: ...") stay in that item.
  function blocksOf(text) {
    var blocks = [];
    var current = null;
    text.split("\n").forEach(function (line) {
      var numbered = /^(\d{1,3})\.\s+(\S.*)$/.exec(line);
      var bullet = /^•\s*(\S.*)$/.exec(line);
      var kind = numbered ? "ol" : bullet ? "ul" : null;
      if (kind) {
        if (!current || current.type !== kind) {
          current = { type: kind, start: numbered ? parseInt(numbered[1], 10) : 1, items: [] };
          blocks.push(current);
        }
        current.items.push([numbered ? numbered[2] : bullet[1]]);
      } else if (current && /^\s+\S/.test(line)) {
        current.items[current.items.length - 1].push(line.trim());
      } else if (line.trim()) {
        blocks.push({ type: "p", text: line.trim() });
        current = null;
      } else {
        current = null;
      }
    });
    return blocks;
  }

  function appendStructured(container, text, speaker) {
    var blocks = blocksOf(text);
    if (!blocks.length || blocks[0].type !== "p") blocks.unshift({ type: "p", text: "" });
    blocks.forEach(function (block, i) {
      var next = blocks[i + 1];
      if (block.type === "p") {
        var lead = next && next.type !== "p" && /:$/.test(block.text);
        var p = element("p", lead ? "chat-msg__lead" : "");
        if (lead) p.id = "msg-" + (++ids) + "-lead";
        if (i === 0) p.appendChild(element("span", "govuk-visually-hidden", speaker + " said: "));
        appendLinkified(p, block.text);
        container.appendChild(p);
        if (lead) next.labelledBy = p.id;
        return;
      }
      var list = element(block.type, "govuk-list govuk-list--" + (block.type === "ol" ? "number" : "bullet"));
      if (block.type === "ol" && block.start !== 1) list.start = block.start;
      if (block.labelledBy) list.setAttribute("aria-labelledby", block.labelledBy);
      block.items.forEach(function (lines) {
        var item = element("li");
        lines.forEach(function (line, j) {
          if (j) item.appendChild(element("br"));
          appendLinkified(item, line);
        });
        list.appendChild(item);
      });
      container.appendChild(list);
    });
  }

  function validChart(chart) {
    return chart && Array.isArray(chart.scores) && chart.scores.length && chart.scores.every(function (row) {
      return row && typeof row.title === "string" &&
        (row.score === null || (typeof row.score === "number" && row.score >= 1 && row.score <= MAX_SCORE && row.score % 1 === 0));
    });
  }

  // The health-check scores: a real table (read as one), with a bar per score drawn beside the number.
  function renderChart(chart) {
    var table = element("table", "govuk-table chat-scores");
    table.appendChild(element("caption", "govuk-table__caption govuk-table__caption--s",
      "1 is not a problem, 5 a serious problem; 3 or more (a striped bar) is worth working on"));
    var head = element("thead", "govuk-table__head");
    var headRow = element("tr", "govuk-table__row");
    ["Challenge", "Score"].forEach(function (title) {
      var th = element("th", "govuk-table__header", title);
      th.scope = "col";
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = element("tbody", "govuk-table__body");
    chart.scores.forEach(function (row) {
      var tr = element("tr", "govuk-table__row");
      var name = element("th", "govuk-table__header", row.title);
      name.scope = "row";
      tr.appendChild(name);
      var cell = element("td", "govuk-table__cell");
      var score = element("span", "chat-scores__score");
      var value = element("span", "chat-scores__value");
      if (row.score === null) {
        value.textContent = "Skipped";
      } else {
        value.textContent = String(row.score);
        value.appendChild(element("span", "govuk-visually-hidden", " out of " + MAX_SCORE));
      }
      score.appendChild(value);
      var bar = element("span", "chat-scores__bar");
      bar.setAttribute("aria-hidden", "true");
      var fill = element("span", "chat-scores__fill chat-scores__fill--" + (row.score || 0) +
        (row.score >= PRESSING ? " chat-scores__fill--pressing" : ""));
      bar.appendChild(fill);
      score.appendChild(bar);
      cell.appendChild(score);
      tr.appendChild(cell);
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function render(message) {
    var fromUser = message.from === "user";
    var item = element("article", "chat-msg chat-msg--" + (fromUser ? "user" : "bot"));
    item.tabIndex = -1; // reached with the arrow keys, not Tab
    // The log announces new messages; the person's own words are not read back to them.
    if (fromUser) item.setAttribute("aria-live", "off");

    var text = element("div", "chat-msg__text");
    text.id = "msg-" + (++ids);
    item.setAttribute("aria-labelledby", text.id); // "Partnership Advisor said: ..." / "You said: ..."
    if (fromUser) {
      var p = element("p");
      p.appendChild(element("span", "govuk-visually-hidden", "You said: "));
      p.appendChild(document.createTextNode(message.text));
      text.appendChild(p);
    } else if (message.chart) {
      var intro = element("p", "chat-msg__lead");
      intro.appendChild(element("span", "govuk-visually-hidden", BOT_NAME + " said: "));
      intro.appendChild(document.createTextNode("Your health-check scores, challenge by challenge:"));
      text.appendChild(intro);
    } else {
      appendStructured(text, message.text, BOT_NAME);
    }
    item.appendChild(text);
    if (message.chart) item.appendChild(renderChart(message.chart));
    articles.set(message, item);
    if (message.unsent) markUnsent(item, message);

    if (message.buttons && message.buttons.length) {
      var group = element("div", "chat-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      message.buttons.forEach(function (choice) {
        var button = element("button", "govuk-button govuk-button--secondary", choice.title);
        button.type = "button";
        button.addEventListener("click", function () {
          input.focus(); // before the buttons are disabled, so focus is never lost
          send(choice.payload, choice.title);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.insertBefore(item, end); // the end marker stays put, so it is never announced again
    return item;
  }

  // A message the server has not received: "Not sent" with a Retry button, or "Waiting to send"
  // once Retry was pressed while offline (sent as soon as the connection is back). Part of the
  // message's name, so reading message by message says it too.
  function markUnsent(item, message) {
    var textId = item.querySelector(".chat-msg__text").id;
    var old = item.querySelector(".chat-msg__unsent");
    if (old) {
      if (old.contains(document.activeElement)) input.focus();
      item.removeChild(old);
    }
    item.setAttribute("aria-labelledby", textId);
    if (!message.unsent) return;
    var mark = element("div", "chat-msg__unsent");
    var failed = message.unsent === "failed";
    var tag = element("strong", "govuk-tag " + (failed ? "govuk-tag--red" : "govuk-tag--grey"), failed ? "Not sent" : "Waiting to send");
    tag.id = textId + "-unsent";
    mark.appendChild(tag);
    if (failed) {
      var button = element("button", "govuk-button govuk-button--secondary chat-retry", "Retry");
      button.type = "button";
      button.addEventListener("click", function () { retry(message); });
      mark.appendChild(button);
    }
    item.appendChild(mark);
    item.setAttribute("aria-labelledby", textId + " " + tag.id);
  }

  function setUnsent(message, status) {
    if (status) message.unsent = status;
    else delete message.unsent;
    persist();
    var item = articles.get(message);
    if (item) markUnsent(item, message);
  }

  function messages() {
    return Array.prototype.slice.call(log.querySelectorAll(".chat-msg"));
  }

  function clearLog(keep) {
    messages().slice(0, messages().length - (keep || 0)).forEach(function (item) { log.removeChild(item); });
  }

  // Suggested replies answer the latest question only: older ones are disabled (and leave the tab order).
  function disableAnsweredReplies() {
    var items = messages();
    var lastUser = -1;
    for (var i = 0; i < items.length; i++) if (items[i].classList.contains("chat-msg--user")) lastUser = i;
    for (var j = 0; j < lastUser; j++) {
      var buttons = items[j].querySelectorAll(".chat-replies button");
      for (var k = 0; k < buttons.length; k++) {
        if (buttons[k] === document.activeElement) input.focus();
        buttons[k].disabled = true;
      }
    }
  }

  // --- Scrolling, and the "New messages" button ---------------------------------------------

  function scrollLogTo(top) {
    log.scrollTop = top;
    ourScrollTop = log.scrollTop; // as the browser clamped it
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 24;
  }

  function inView(item) {
    var top = item.offsetTop - log.scrollTop;
    return top >= 0 && top < log.clientHeight - 16;
  }

  function showNewMessages(item) {
    if (!firstUnseen) firstUnseen = item;
    newMessages.hidden = false;
  }

  function hideNewMessages() {
    firstUnseen = null;
    newMessages.hidden = true;
  }

  log.addEventListener("scroll", function () {
    if (ourScrollTop !== null && Math.abs(log.scrollTop - ourScrollTop) < 2) return; // our own
    ourScrollTop = null;
    follow = nearBottom(); // the person scrolled: follow new messages again only at the bottom
    if (firstUnseen && (follow || inView(firstUnseen))) hideNewMessages();
  });

  newMessages.addEventListener("click", function () {
    var target = firstUnseen;
    hideNewMessages();
    follow = true;
    if (target) {
      scrollLogTo(target.offsetTop - 8);
      target.focus({ preventScroll: true }); // read on from the first new message
    } else {
      scrollLogTo(log.scrollHeight);
    }
  });

  function add(message) {
    state.messages.push(message);
    persist();
    var item = render(message);
    disableAnsweredReplies();
    if (message.from === "user") {
      follow = true;
      hideNewMessages();
      scrollLogTo(log.scrollHeight);
      answerStart = null;
    } else if (follow) {
      // Show an answer from its start: long advice arrives in several parts, and the first part
      // alone may not fill the log yet, so keep scrolling to it as the others arrive.
      answerStart = answerStart || item;
      scrollLogTo(answerStart.offsetTop - 8); // the log is the offsetParent (position: relative)
      revealInPage(answerStart);
    } else if (!inView(item)) {
      showNewMessages(item); // the person is reading further up: do not move the text under them
    }
  }

  // When the page itself scrolls (400 % zoom, a short window), the log can be partly out of the
  // window: bring the answer's start into the window too. Not when the person is reading the
  // notes below the chat (the chat is out of sight); never at sizes where the chat fits.
  function revealInPage(item) {
    // The chat: from the conversation to the message box (its content can overflow .chat-screen).
    if (form.getBoundingClientRect().bottom <= 0 || log.getBoundingClientRect().top >= window.innerHeight) return;
    var top = item.getBoundingClientRect().top;
    if (top >= 0 && top <= window.innerHeight - 32) return;
    window.scrollBy({ top: top - 16, left: 0, behavior: "instant" });
  }

  // --- Reading the transcript by keyboard ----------------------------------------------------
  // Arrow keys move message by message (each is named "Partnership Advisor said: ..." or "You
  // said: ..."), Home and End to the first and latest, past the latest is "End of chat history";
  // Escape goes back to the message box.

  function focusItem(item) {
    if (!item) return;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  log.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      input.focus();
      return;
    }
    var target = event.target;
    if (target !== log && target !== end && !(target.classList && target.classList.contains("chat-msg"))) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var items = messages();
    var stops = items.concat([end]);
    var at = stops.indexOf(target);
    var next;
    if (event.key === "ArrowUp") next = at < 0 ? items[items.length - 1] : stops[Math.max(at - 1, 0)];
    else if (event.key === "ArrowDown") next = at < 0 ? items[items.length - 1] : stops[Math.min(at + 1, stops.length - 1)];
    else if (event.key === "Home") next = items[0] || end;
    else if (event.key === "End") next = items[items.length - 1] || end;
    else return;
    event.preventDefault();
    focusItem(next);
  });

  // --- Talking to the server -----------------------------------------------------------------

  function setTyping(on) {
    clearTimeout(typingTimer);
    if (typing.hidden === on) typing.hidden = !on; // only changes: the status region is live
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  function plural(count, one, many) {
    return count === 1 ? one : count + " " + many;
  }

  // The connection line, from the state: rewritten only when that changes, so a screen reader
  // announces it once per change, not at every attempt to reconnect.
  function updateConnection() {
    var failed = 0;
    var waiting = 0;
    state.messages.forEach(function (message) {
      if (message.unsent === "failed") failed++;
      else if (message.unsent === "waiting") waiting++;
    });
    var text = "";
    if (connectionState === "offline") {
      text = "Cannot reach " + BOT_NAME + "." +
        (failed ? " " + plural(failed, "Your message was", "messages were") + " not sent." : "") +
        (waiting ? " " + plural(waiting, "A message", "messages") + " will be sent when the connection is back." : "") +
        " Trying to reconnect…";
    } else if (connectionState === "connected") {
      text = reconnected +
        (failed ? (reconnected ? " " : "") + plural(failed, "A message was", "messages were") +
          " not sent: use Retry to send " + (failed === 1 ? "it." : "them.") : "");
    }
    if (connection.textContent !== text) connection.textContent = text;
  }

  // A message (or the greeting's payload) to the server; acknowledged once it has been answered.
  function deliver(item) {
    var message = typeof item === "string" ? null : item;
    var payload = message ? message.payload || message.text : item;
    setTyping(true);
    if (message) pending.push(message);
    socket.emit("user_uttered", { message: payload }, function () {
      var at = pending.indexOf(message);
      if (at >= 0) pending.splice(at, 1);
    });
  }

  function send(payload, shownAs) {
    if (shownAs === null) {
      deliver(payload); // the greeting: sent only once the session is confirmed
      return;
    }
    reconnected = "";
    var message = { from: "user", text: shownAs };
    if (payload !== shownAs) message.payload = payload; // a reply button's
    if (!ready && connectionState === "offline") message.unsent = "failed"; // shown as such, not as sent
    add(message);
    if (ready) deliver(message);
    else if (!message.unsent) {
      queue.push(message);
      setTyping(true);
    }
    updateConnection();
  }

  // Retry moves the message to the end of the conversation, where its answer will come; offline,
  // it waits there and is sent as soon as the connection is back.
  function retry(message) {
    input.focus(); // before the button goes, so focus is never lost
    var at = state.messages.indexOf(message);
    if (at >= 0) state.messages.splice(at, 1);
    var item = articles.get(message);
    if (item && item.parentNode === log) log.removeChild(item);
    reconnected = "";
    if (ready) delete message.unsent;
    else message.unsent = "waiting";
    add(message);
    if (ready) deliver(message);
    updateConnection();
  }

  // The connection is gone: what was not acknowledged, or was waiting for it, was not sent.
  function failUnsent() {
    pending.splice(0).concat(queue.splice(0)).forEach(function (message) { setUnsent(message, "failed"); });
    setTyping(false);
  }

  // "Delete my data" is done on the server: drop this tab's copy of the conversation too (all
  // but the confirmation just shown) and ask for a new session, so the next message starts afresh.
  function forgetConversation() {
    var lastUser = -1;
    state.messages.forEach(function (message, i) { if (message.from === "user") lastUser = i; });
    var kept = state.messages.slice(lastUser + 1); // the confirmation
    clearLog(kept.length);
    hideNewMessages();
    state = { token: null, greeted: true, messages: kept };
    persist();
    if (socket.connected) {
      ready = false; // messages typed meanwhile wait for the new session
      socket.emit("session_request", { session_id: null });
    }
  }

  function botMessage(data) {
    if (!data || typeof data !== "object") return;
    if (data.privacy === "conversation_deleted") { forgetConversation(); return; }
    // The health-check result as data (sent only to this channel: actions/health_check.py).
    if (data.health_check) {
      if (!validChart(data.health_check)) return;
      setTyping(false);
      add({
        from: "bot",
        text: "",
        chart: { scores: data.health_check.scores.map(function (row) { return { title: row.title, score: row.score }; }) }
      });
      return;
    }
    var choices = data.quick_replies || data.buttons || [];
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && !choices.length) return; // attachments and other custom payloads are not used by this bot
    setTyping(false);
    add({
      from: "bot",
      text: text,
      buttons: choices.map(function (choice) {
        return { title: String(choice.title), payload: String(choice.payload) };
      })
    });
  }

  // History of this tab's conversation, before anything is announced.
  state.messages.forEach(render);
  disableAnsweredReplies();
  scrollLogTo(log.scrollHeight);

  var socket = window.io({ path: "/socket.io", transports: ["websocket"] });

  socket.on("connect", function () {
    // The server signs session ids; it gives a new one if ours is unknown or forged.
    socket.emit("session_request", { session_id: state.token });
  });

  socket.on("session_confirm", function (token) {
    if (state.token && token !== state.token) {
      // The server did not resume our conversation (e.g. its key changed): start a fresh one,
      // with what was typed meanwhile.
      var typed = queue.splice(0);
      state = { token: null, greeted: false, messages: [] };
      clearLog();
      hideNewMessages();
      typed.forEach(function (message) { add(message); queue.push(message); });
    }
    state.token = token;
    persist();
    ready = true;
    if (connectionState === "offline") reconnected = connectedBefore ? "Connected again." : "Connected.";
    connectionState = "connected";
    connectedBefore = true;
    queue.splice(0).forEach(deliver);
    state.messages.filter(function (message) { return message.unsent === "waiting"; }).forEach(function (message) {
      setUnsent(message, null);
      deliver(message);
    });
    updateConnection();
    if (!state.greeted) {
      state.greeted = true;
      persist();
      send(GREETING, null);
    }
  });

  socket.on("bot_uttered", botMessage);

  socket.on("disconnect", function () {
    ready = false;
    connectionState = "offline";
    reconnected = "";
    failUnsent();
    updateConnection();
  });

  socket.on("connect_error", function () {
    connectionState = "offline";
    reconnected = "";
    failUnsent();
    updateConnection();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });

  // Started: the message box works (it is disabled in the page until now).
  unavailable.hidden = true;
  input.disabled = false;
  sendButton.disabled = false;
})();
