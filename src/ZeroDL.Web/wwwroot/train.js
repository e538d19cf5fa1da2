// The Train page: start a run, follow its Server-Sent Events, draw loss and accuracy with uPlot.
let source = null, runId = null, lossPlot = null, accPlot = null;
const loss = [[], []], acc = [[], [], []];

async function loadPresets() {
  const presets = await (await fetch('api/presets')).json();
  const select = document.getElementById('preset');
  for (const p of presets) select.add(new Option(`${p.name} — ${p.description}`, p.name));
  const data = document.getElementById('data');
  for (const d of await (await fetch('api/datasets')).json()) data.add(new Option(d, d));
}

function plots() {
  const width = Math.min(560, window.innerWidth - 60);
  document.getElementById('loss').innerHTML = '';
  document.getElementById('accuracy').innerHTML = '';
  lossPlot = new uPlot({ title: 'training loss', width, height: 300, scales: { x: { time: false } },
    series: [{ label: 'iteration' }, { label: 'loss', stroke: '#1f77b4' }] }, loss, document.getElementById('loss'));
  accPlot = new uPlot({ title: 'accuracy', width, height: 300, scales: { x: { time: false } },
    series: [{ label: 'epoch' }, { label: 'train', stroke: '#1f77b4' }, { label: 'test', stroke: '#d62728' }] }, acc, document.getElementById('accuracy'));
}

document.getElementById('form').addEventListener('submit', async e => {
  e.preventDefault();
  const lr = parseFloat(document.getElementById('lr').value);
  const request = {
    model: document.getElementById('preset').value,
    data: document.getElementById('data').value || 'mnist',
    optimizer: document.getElementById('optimizer').value || null,
    learningRate: isNaN(lr) ? null : lr,
    epochs: parseInt(document.getElementById('epochs').value, 10) || 1,
    augment: document.getElementById('augment').checked,
  };
  const response = await fetch('api/train', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  const result = await response.json();
  if (!response.ok) { status(result.error); return; }
  status('');
  runId = result.id;
  loss.forEach(a => (a.length = 0)); acc.forEach(a => (a.length = 0));
  plots();
  document.getElementById('start').disabled = true;
  document.getElementById('cancel').disabled = false;
  source = new EventSource(result.events);
  source.onmessage = m => handle(JSON.parse(m.data));
});

document.getElementById('cancel').addEventListener('click', () => runId && fetch(`api/train/${runId}/cancel`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }));

function handle(e) {
  const info = document.getElementById('info');
  if (e.type === 'start') info.textContent = `${e.model} on ${e.data}: ${e.description}; ${e.optimizer} lr ${e.learningRate}, ${e.iterations} iterations${e.augment ? ', augmented' : ''}.`;
  if (e.type === 'batch') { loss[0].push(e.iteration); loss[1].push(e.loss); lossPlot.setData(loss); }
  if (e.type === 'epoch') {
    acc[0].push(e.epoch); acc[1].push(e.trainAccuracy); acc[2].push(e.testAccuracy); accPlot.setData(acc);
    info.textContent = `epoch ${e.epoch}: train ${(e.trainAccuracy * 100).toFixed(2)} %, test ${(e.testAccuracy * 100).toFixed(2)} %, ${e.seconds.toFixed(1)} s — saved as model ${e.savedAs} (selectable on the Explore page, and on the Draw page for MNIST).`;
  }
  if (e.type === 'done') {
    source.close();
    document.getElementById('start').disabled = false;
    document.getElementById('cancel').disabled = true;
    status(e.status === 'failed' ? 'failed: ' + e.error : e.status === 'cancelled' ? 'cancelled' + (e.model ? '; the last finished epoch is saved as ' + e.model : '') : '');
    if (e.status === 'done') info.textContent += ` Done: ${(e.testAccuracy * 100).toFixed(2)} % test in ${e.seconds.toFixed(1)} s.`;
  }
}

function status(text) { document.getElementById('status').textContent = text || ''; }
plots();
loadPresets().catch(err => status('could not load the models: ' + err));
