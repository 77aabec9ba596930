// Citation clicks and the speech timer. Loaded once in <head>; uses event delegation
// because Gradio re-renders the chat and panels on every update. Nothing here talks to the
// server except through the hidden #cite-target box and #cite-go button.
(() => {
  // Once the panel shows the clicked citation, bring its card into view.
  const scrollToEvidence = (target) => {
    const [turn, n] = target.split(':');
    const wanted = `#evidence-panel .ev-panel[data-turn="${turn}"][data-focus="${n || ''}"]`;
    const started = Date.now();
    const poll = setInterval(() => {
      if (!document.querySelector(wanted) && Date.now() - started < 10000) return;
      clearInterval(poll);
      const card = document.querySelector('#evidence-panel .ev-card.focused')
        || document.querySelector('#evidence-panel');
      if (card) card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    }, 100);
  };
  const send = (target) => {
    const box = document.querySelector('#cite-target textarea, #cite-target input');
    const go = document.querySelector('#cite-go');
    if (!box || !go) return;
    box.value = target;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    setTimeout(() => { go.click(); scrollToEvidence(target); }, 30);
  };
  document.addEventListener('click', (ev) => {
    const link = ev.target.closest && ev.target.closest('a.cite, a.ev-open');
    if (!link) return;
    const msg = link.closest('[data-turn]');
    if (!msg || link.closest('#evidence-panel')) return;
    ev.preventDefault();
    ev.stopPropagation();
    send(msg.dataset.turn + (link.dataset.cite ? ':' + link.dataset.cite : ''));
  }, true);

  // Cards (debate/app/cards.py): "Save as card" under a cited passage, and the words
  // selected in a passage, reach the server as a small JSON request in #card-target.
  const setCardTarget = (request) => {
    const box = document.querySelector('#card-target textarea, #card-target input');
    if (!box) return false;
    box.value = JSON.stringify(request);
    box.dispatchEvent(new Event('input', { bubbles: true }));
    return true;
  };
  document.addEventListener('click', (ev) => {
    const button = ev.target.closest && ev.target.closest('#evidence-panel button.ev-save');
    if (!button) return;
    const panel = button.closest('.ev-panel');
    if (!panel) return;
    ev.preventDefault();
    if (!setCardTarget({ action: 'save', turn: Number(panel.dataset.turn), n: Number(button.dataset.n) })) return;
    setTimeout(() => { const go = document.querySelector('#card-go'); if (go) go.click(); }, 30);
  }, true);
  // Offsets of a selection inside a passage's text: the characters before it in the
  // blockquote (its text is the passage's text; <mark> only wraps parts of it).
  const offsetIn = (block, node, offset) => {
    const range = document.createRange();
    range.setStart(block, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  };
  const blockOf = (node) => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el && el.closest('#evidence-panel blockquote.ev-text');
  };
  document.addEventListener('selectionchange', () => {
    const sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    const block = blockOf(range.startContainer);
    if (!block || blockOf(range.endContainer) !== block) return;
    const panel = block.closest('.ev-panel');
    const start = offsetIn(block, range.startContainer, range.startOffset);
    const end = offsetIn(block, range.endContainer, range.endOffset);
    if (!panel || end <= start) return;
    setCardTarget({
      action: 'cut', turn: Number(panel.dataset.turn), n: Number(block.dataset.n),
      start, end, text: block.textContent.slice(start, end),
    });
  });

  const T = { key: null, remaining: 0, deadline: 0, running: false };
  const fmt = (s) => {
    s = Math.ceil(s);
    return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  };
  const el = () => document.getElementById('speech-timer');
  const sync = () => {
    const e = el();
    if (e && e.dataset.key !== T.key) {
      T.key = e.dataset.key; T.remaining = Number(e.dataset.seconds) || 0; T.running = false;
      e.classList.remove('expired');
    }
    return e;
  };
  setInterval(() => {
    const e = sync();
    if (!e) return;
    if (T.running) {
      T.remaining = Math.max(0, (T.deadline - Date.now()) / 1000);
      if (T.remaining <= 0) { T.running = false; e.classList.add('expired'); }
    }
    const clock = e.querySelector('.timer-clock');
    if (clock) clock.textContent = fmt(T.remaining);
    e.classList.toggle('running', T.running);
    e.classList.toggle('low', T.remaining <= 30);
  }, 250);
  // The timer's buttons run here only: the countdown needs no server round trip.
  document.addEventListener('click', (ev) => {
    const button = ev.target.closest && ev.target.closest('#timer-start, #timer-pause, #timer-reset');
    if (button) window.debateTimer[button.id.replace('timer-', '')]();
  });
  window.debateTimer = {
    start() { sync(); if (!T.running && T.remaining > 0) { T.deadline = Date.now() + T.remaining * 1000; T.running = true; } },
    pause() { if (T.running) { T.remaining = Math.max(0, (T.deadline - Date.now()) / 1000); T.running = false; } },
    reset() { T.key = null; sync(); },
  };
})();
