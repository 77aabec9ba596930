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
