// Partnership Advisor web chat: a small, accessible widget on Rasa's Socket.IO channel
// (channels/socketio.py). Everything from people and from the knowledge store is inserted as
// text (textContent / text nodes), never as HTML; only http(s) URLs become links.
(function () {
  "use strict";

  // sessionStorage, not localStorage: the conversation survives a reload but not closing the tab.
  var STORE_KEY = "partnership-advisor.chat";
  var GREETING = "/greet"; // asks the bot for its welcome and example questions; never shown
  var TYPING_TIMEOUT_MS = 20000;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var typing = document.getElementById("typing");
  var connection = document.getElementById("connection");

  var state = restore();
  var ready = false; // true once the server confirmed our session
  var queue = []; // messages typed before that
  var typingTimer = null;
  var answerStart = null; // first message of the answer being received

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

  // Text with bare http(s) URLs turned into links; nothing is ever parsed as HTML.
  function appendLinkified(parent, text) {
    var urls = /https?:\/\/[^\s<>"'`]+/g;
    var last = 0;
    var match;
    while ((match = urls.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, ""); // trailing punctuation ends a sentence, not the URL
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = document.createElement("a");
      link.href = url;
      link.rel = "noopener noreferrer";
      link.textContent = url;
      parent.appendChild(link);
      last = match.index + url.length;
      urls.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function render(message) {
    var item = document.createElement("div");
    item.className = "msg msg-" + (message.from === "user" ? "user" : "bot");
    // The log announces new messages; the person's own words are not read back to them.
    if (message.from === "user") item.setAttribute("aria-live", "off");

    var text = document.createElement("p");
    text.className = "msg-text";
    var sender = document.createElement("span");
    sender.className = "visually-hidden";
    sender.textContent = message.from === "user" ? "You said: " : "Partnership Advisor said: ";
    text.appendChild(sender);
    if (message.from === "user") text.appendChild(document.createTextNode(message.text));
    else appendLinkified(text, message.text);
    item.appendChild(text);

    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      message.buttons.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = choice.title;
        button.addEventListener("click", function () {
          input.focus(); // before the buttons are disabled, so focus is never lost
          send(choice.payload, choice.title);
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    return item;
  }

  // Suggested replies answer the latest question only: older ones are disabled (and leave the tab order).
  function disableAnsweredReplies() {
    var items = log.children;
    var lastUser = -1;
    for (var i = 0; i < items.length; i++) if (items[i].classList.contains("msg-user")) lastUser = i;
    for (var j = 0; j < lastUser; j++) {
      var buttons = items[j].querySelectorAll(".replies button");
      for (var k = 0; k < buttons.length; k++) {
        if (buttons[k] === document.activeElement) input.focus();
        buttons[k].disabled = true;
      }
    }
  }

  function add(message) {
    state.messages.push(message);
    persist();
    var item = render(message);
    disableAnsweredReplies();
    if (message.from === "user") {
      log.scrollTop = log.scrollHeight;
      answerStart = null;
    } else {
      // Show an answer from its start: long advice arrives in several parts, and the first part
      // alone may not fill the log yet, so keep scrolling to it as the others arrive.
      answerStart = answerStart || item;
      log.scrollTop = answerStart.offsetTop - 8; // the log is the offsetParent (position: relative)
    }
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  function send(payload, shownAs) {
    if (shownAs !== null) add({ from: "user", text: shownAs });
    setTyping(true);
    if (ready) socket.emit("user_uttered", { message: payload });
    else queue.push(payload);
  }

  // "Delete my data" is done on the server: drop this tab's copy of the conversation too (all
  // but the confirmation just shown) and ask for a new session, so the next message starts afresh.
  function forgetConversation() {
    var lastUser = -1;
    state.messages.forEach(function (message, i) { if (message.from === "user") lastUser = i; });
    var kept = state.messages.slice(lastUser + 1); // the confirmation
    var drop = log.children.length - kept.length;
    for (var i = 0; i < drop; i++) log.removeChild(log.firstElementChild);
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
    var choices = data.quick_replies || data.buttons || [];
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && !choices.length) return; // attachments and custom payloads are not used by this bot
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
  log.scrollTop = log.scrollHeight;

  var socket = io({ path: "/socket.io", transports: ["websocket"] });

  socket.on("connect", function () {
    connection.textContent = "";
    // The server signs session ids; it gives a new one if ours is unknown or forged.
    socket.emit("session_request", { session_id: state.token });
  });

  socket.on("session_confirm", function (token) {
    if (state.token && token !== state.token) {
      // The server did not resume our conversation (e.g. its key changed): start a fresh one.
      state = { token: null, greeted: false, messages: [] };
      log.textContent = "";
    }
    state.token = token;
    persist();
    ready = true;
    while (queue.length) socket.emit("user_uttered", { message: queue.shift() });
    if (!state.greeted) {
      state.greeted = true;
      persist();
      send(GREETING, null);
    }
  });

  socket.on("bot_uttered", botMessage);

  socket.on("disconnect", function () {
    ready = false;
    setTyping(false);
    connection.textContent = "Connection lost. Reconnecting…";
  });

  socket.on("connect_error", function () {
    connection.textContent = "Cannot reach Partnership Advisor at the moment. Trying again…";
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });
})();
