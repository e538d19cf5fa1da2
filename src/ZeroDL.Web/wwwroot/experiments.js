// The Experiments page: every experiment zerodl experiment has written under runs/, with its figures and summary.
async function load() {
  const list = document.getElementById('list');
  const experiments = await (await fetch('api/experiments')).json();
  if (!experiments.length) {
    list.innerHTML = '<p>No experiments yet: run <code>zerodl experiment all --quick</code> (seconds) or <code>zerodl experiment all</code>.</p>';
    return;
  }
  for (const e of experiments) {
    const section = document.createElement('section');
    section.className = 'figure';
    const h = document.createElement('h3'); h.textContent = `${e.name}: ${e.title} (ch. ${e.chapter})`;
    section.appendChild(h);
    for (const f of e.figures) { const img = document.createElement('img'); img.src = f; img.alt = f; section.appendChild(img); }
    const pre = document.createElement('pre'); pre.textContent = e.summary; section.appendChild(pre);
    list.appendChild(section);
  }
}
load().catch(err => (document.getElementById('status').textContent = 'could not load: ' + err));
