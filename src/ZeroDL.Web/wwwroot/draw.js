// The Draw page: strokes on a canvas, sent as a PNG to POST /api/predict (debounced) while drawing.
const pad = document.getElementById('pad');
const ctx = pad.getContext('2d');
const seen = document.getElementById('seen').getContext('2d');
const strokes = [];
let current = null;
let timer = null;

function clearPad() {
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, pad.width, pad.height);
}

function redraw() {
  clearPad();
  ctx.strokeStyle = 'black';
  ctx.lineWidth = 18;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const s of strokes) {
    ctx.beginPath();
    s.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
    if (s.length === 1) ctx.lineTo(s[0].x + 0.1, s[0].y);
    ctx.stroke();
  }
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
}

pad.addEventListener('pointerdown', e => {
  pad.setPointerCapture(e.pointerId);
  current = [point(e)];
  strokes.push(current);
  redraw();
});
pad.addEventListener('pointermove', e => {
  if (!current) return;
  current.push(point(e));
  redraw();
  schedule();
});
pad.addEventListener('pointerup', () => { current = null; schedule(0); });
pad.addEventListener('pointercancel', () => { current = null; });

document.getElementById('clear').addEventListener('click', () => { strokes.length = 0; redraw(); show(null); });
document.getElementById('undo').addEventListener('click', () => { strokes.pop(); redraw(); strokes.length ? schedule(0) : show(null); });
document.getElementById('model').addEventListener('change', () => schedule(0));

function schedule(delay = 150) {
  clearTimeout(timer);
  timer = setTimeout(predict, delay);
}

async function predict() {
  if (!strokes.length) return;
  const blob = await new Promise(resolve => pad.toBlob(resolve, 'image/png'));
  const model = document.getElementById('model').value;
  try {
    const response = await fetch('api/predict' + (model ? '?model=' + encodeURIComponent(model) : ''), {
      method: 'POST', headers: { 'Content-Type': 'image/png' }, body: blob,
    });
    const result = await response.json();
    if (!response.ok) { status(result.error || response.statusText); return; }
    show(result);
  } catch (err) {
    status('the server did not answer: ' + err);
  }
}

function status(text) { document.getElementById('status').textContent = text || ''; }

function show(result) {
  status('');
  const answer = document.getElementById('answer');
  const bars = document.getElementById('bars');
  bars.innerHTML = '';
  seen.fillStyle = 'black';
  seen.fillRect(0, 0, 140, 140);
  if (!result || result.empty) { answer.textContent = '…'; return; }
  answer.textContent = result.label;
  result.probabilities.forEach((p, digit) => {
    const label = document.createElement('span'); label.textContent = digit;
    const track = document.createElement('div');
    const bar = document.createElement('div');
    bar.className = 'bar' + (digit === result.label ? ' best' : '');
    bar.style.width = Math.max(1, p * 220) + 'px';
    track.appendChild(bar);
    const value = document.createElement('span'); value.textContent = (p * 100).toFixed(1) + ' %';
    bars.append(label, track, value);
  });
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const v = Math.round(result.image[y * 28 + x] * 255);
      seen.fillStyle = `rgb(${v},${v},${v})`;
      seen.fillRect(x * 5, y * 5, 5, 5);
    }
}

async function loadModels() {
  const select = document.getElementById('model');
  try {
    const models = await (await fetch('api/models')).json();
    for (const m of models) {
      const option = document.createElement('option');
      option.value = m.name;
      option.textContent = `${m.name} (${m.kind})${m.default ? ', default' : ''}`; // the default comes first
      select.appendChild(option);
    }
    if (!models.length) await followTraining();
  } catch (err) {
    status('could not list the models: ' + err);
  }
}

// With no model yet the server may be training the default one: show its progress, offer the model when ready.
async function followTraining() {
  const runs = await (await fetch('api/train')).json();
  const run = runs.find(r => r.status === 'running');
  if (!run) { status('No model yet: train one on the Train page or with zerodl train, or start zerodl serve --model FILE.'); return; }
  const note = document.getElementById('status');
  note.textContent = 'No model yet — training the default one now…';
  const source = new EventSource(`api/train/${run.id}/events`);
  source.onmessage = async m => {
    const e = JSON.parse(m.data);
    if (e.type === 'batch') note.textContent = `Training the default model: iteration ${e.iteration}, loss ${e.loss.toFixed(3)}…`;
    if (e.type === 'epoch') {
      note.textContent = `Training the default model: epoch ${e.epoch} done, test ${(e.testAccuracy * 100).toFixed(2)} % — you can draw now.`;
      const select = document.getElementById('model');
      if (!select.options.length) select.add(new Option(`${e.savedAs} (training)`, e.savedAs));
    }
    if (e.type === 'done') { source.close(); note.textContent = e.status === 'done' ? '' : 'training ' + e.status; }
  };
}

redraw();
show(null);
loadModels();
