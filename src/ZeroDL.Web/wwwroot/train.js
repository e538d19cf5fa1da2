// The Train page: start a run (or resume an interrupted one), follow its Server-Sent Events, draw loss and accuracy
// with uPlot; list interrupted runs and this server's runs, whose curves it can draw again.
let source = null, runId = null, lossPlot = null, accPlot = null, resumed = '';
const loss = [[], []], acc = [[], [], [], []];

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
    series: [{ label: 'epoch' }, { label: 'train', stroke: '#1f77b4' }, { label: 'test', stroke: '#d62728' }, { label: 'validation', stroke: '#2ca02c' }] },
    acc, document.getElementById('accuracy'));
}

function clearCharts() { loss.forEach(a => (a.length = 0)); acc.forEach(a => (a.length = 0)); plots(); }

const post = url => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });

// Follows a run started (or resumed) with the answer of POST api/train or …/resume.
function follow(result) {
  status('');
  runId = result.id;
  clearCharts();
  document.getElementById('start').disabled = true;
  document.getElementById('cancel').disabled = false;
  source = new EventSource(result.events);
  source.onmessage = m => handle(JSON.parse(m.data));
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
    schedule: schedule(),
    validationSplit: number('val-split'),
    earlyStop: number('early-stop'),
    monitor: document.getElementById('monitor').value,
  };
  const response = await fetch('api/train', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  const result = await response.json();
  if (!response.ok) { status(result.error); return; }
  follow(result);
});

// A number field's value, or null when empty (the server checks the ranges and says what is wrong).
function number(id) { const v = parseFloat(document.getElementById(id).value); return isNaN(v) ? null : v; }

// The schedule the form describes, or null for the model's own.
function schedule() {
  const kind = document.getElementById('schedule').value;
  if (!kind) return null;
  const s = { kind, warmup: number('warmup') };
  if (kind === 'step') { s.everyEpochs = number('every-epochs'); s.gamma = number('gamma'); }
  if (kind === 'cosine') s.floor = number('floor');
  if (kind === 'plateau') {
    s.factor = number('factor'); s.patience = number('plateau-patience'); s.minFactor = number('min-factor');
    s.monitor = document.getElementById('plateau-monitor').value || null;
  }
  return s;
}

// Shows the parameters of the chosen schedule only.
function showScheduleFields() {
  const kind = document.getElementById('schedule').value;
  for (const label of document.querySelectorAll('label[data-kind]')) label.hidden = !label.dataset.kind.split(' ').includes(kind);
}
document.getElementById('schedule').addEventListener('change', showScheduleFields);

document.getElementById('cancel').addEventListener('click', () => runId && post(`api/train/${runId}/cancel`));

const percent = x => x == null ? '–' : (x * 100).toFixed(2) + ' %';

function handle(e) {
  const info = document.getElementById('info');
  if (e.type === 'start') {
    info.textContent = `${e.model} on ${e.data}: ${e.description}; ${e.optimizer} lr ${e.learningRate}, ${e.iterations} iterations${e.augment ? ', augmented' : ''}.`;
    resumed = e.resumedFrom ? ` Resumed after iteration ${e.resumedFrom.iteration} (${e.resumedFrom.epoch} epochs done).` : '';
    info.textContent += resumed;
  }
  if (e.type === 'batch') { loss[0].push(e.iteration); loss[1].push(e.loss); lossPlot.setData(loss); }
  if (e.type === 'epoch') {
    acc[0].push(e.epoch); acc[1].push(e.trainAccuracy); acc[2].push(e.testAccuracy); acc[3].push(e.validationAccuracy); accPlot.setData(acc);
    info.textContent = `epoch ${e.epoch}: train ${percent(e.trainAccuracy)}, test ${percent(e.testAccuracy)}, ${e.seconds.toFixed(1)} s — saved as model ${e.savedAs} (selectable on the Explore page, and on the Draw page for MNIST).${resumed}`;
  }
  if (e.type === 'done') {
    source.close();
    document.getElementById('start').disabled = false;
    document.getElementById('cancel').disabled = true;
    if (e.status === 'failed') status('failed: ' + e.error);
    else if (e.status === 'diverged') status('diverged: ' + e.error + (e.checkpointIteration != null ? ` (the last good checkpoint, iteration ${e.checkpointIteration}, is kept)` : ''));
    else if (e.status === 'cancelled') status('cancelled' + (e.reason ? ': ' + e.reason : '') + (e.model ? '; the last finished epoch is saved as ' + e.model : '')
      + (e.resumable ? '; it is listed under Interrupted runs' : ''));
    else status('');
    if (e.status === 'done') info.textContent += ` Done: ${percent(e.testAccuracy)} test in ${e.seconds.toFixed(1)} s.${e.reason ? ' (' + e.reason + ')' : ''}`;
    refreshLists();
  }
}

function cell(row, text) { const td = row.insertCell(); td.textContent = text; return td; }

function button(row, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button'; b.textContent = label;
  b.addEventListener('click', onClick);
  row.insertCell().appendChild(b);
  return b;
}

async function refreshInterrupted() {
  const list = await (await fetch('api/train/interrupted')).json();
  const table = document.getElementById('interrupted');
  table.innerHTML = '';
  document.getElementById('interrupted-section').hidden = list.length === 0;
  for (const r of list) {
    const row = table.insertRow();
    row.dataset.id = r.id;
    cell(row, r.id);
    if (r.status === 'unusable') { cell(row, 'unusable'); cell(row, r.reason).colSpan = 3; continue; }
    cell(row, `${r.request.model} on ${r.request.data}`);
    cell(row, `epoch ${r.epoch} of ${r.epochs}, iteration ${r.iteration} of ${r.iterations}`);
    cell(row, r.testAccuracy != null ? `test ${percent(r.testAccuracy)}` : 'no epoch finished');
    if (r.resumable) button(row, 'Resume', () => resume(r.id)).className = 'resume';
    else cell(row, `${r.status}: ${r.reason}`);
  }
}

async function resume(id) {
  const response = await post(`api/train/interrupted/${encodeURIComponent(id)}/resume`);
  const result = await response.json();
  if (!response.ok) { status(result.error); return; }
  follow(result);
  refreshInterrupted();
}

// The runs whose metrics logs are on the server (this server's and earlier ones'), each with its curves.
async function refreshRuns() {
  const list = await (await fetch('api/train/logs')).json();
  const table = document.getElementById('runs');
  table.innerHTML = '';
  document.getElementById('runs-section').hidden = list.length === 0;
  for (const r of list) {
    const row = table.insertRow();
    row.dataset.id = r.name;
    cell(row, r.name);
    cell(row, r.data);
    cell(row, r.status + (r.message ? ': ' + r.message : ''));
    cell(row, `epoch ${r.epoch} of ${r.epochs}, last test ${percent(r.lastTestAccuracy)}`);
    if (r.status !== 'running') button(row, 'Curves', () => showCurves(r.name)).className = 'curves';
  }
}

// Draws a run's curves from its metrics log (every epoch's accuracy, the loss every 100 mini-batches) in the charts the live run uses.
async function showCurves(name) {
  const response = await fetch(`api/train/logs/${encodeURIComponent(name)}/curves`);
  const c = await response.json();
  if (!response.ok) { status(c.error); return; }
  clearCharts();
  loss[0].push(...c.iterations); loss[1].push(...c.loss); lossPlot.setData(loss);
  for (const e of c.epochs) { acc[0].push(e.epoch); acc[1].push(e.trainAccuracy); acc[2].push(e.testAccuracy); acc[3].push(e.validationAccuracy); }
  accPlot.setData(acc);
  const last = c.epochs[c.epochs.length - 1];
  document.getElementById('info').textContent = `Curves of ${c.id} (${c.status}): ${c.epochs.length} epochs`
    + (last ? `, last test ${percent(last.testAccuracy)}.` : '.');
}

function refreshLists() { refreshInterrupted().catch(err => status('could not list the interrupted runs: ' + err)); refreshRuns().catch(() => {}); }

function status(text) { document.getElementById('status').textContent = text || ''; }
plots();
loadPresets().catch(err => status('could not load the models: ' + err));
refreshLists();
