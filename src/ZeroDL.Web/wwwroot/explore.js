// The Explore page: a model's test images (MNIST, or the data its file records) with its predictions, and a confusion
// matrix whose cells filter the grid. Classes are shown by their names.
let data = null, cellFilter = null, page = 0;
const perPage = 100;

async function load() {
  const select = document.getElementById('model');
  const models = await (await fetch('api/models')).json();
  if (!models.length) { status('No model yet: train one (Train page or zerodl train).'); return; }
  if (!select.options.length) for (const m of models) select.add(new Option(`${m.name} (${m.kind})${m.default ? ', default' : ''}`, m.name));
  status('Predicting the test images…');
  const response = await fetch('api/explore?model=' + encodeURIComponent(select.value));
  const result = await response.json();
  if (!response.ok) { status(result.error); return; }
  data = result; cellFilter = null; page = 0;
  status('');
  document.getElementById('summary').textContent =
    `${(data.accuracy * 100).toFixed(2)} % correct: ${data.predictions.filter((p, i) => p !== data.labels[i]).length} of ${data.labels.length} misclassified.`;
  document.getElementById('dataset').textContent = data.images.startsWith('api/mnist') ? 'MNIST test images' : 'Test images';
  drawConfusion();
  drawGrid();
}

const name = c => data.classes[c];

function indices() {
  const wrongOnly = document.getElementById('wrong').checked;
  const result = [];
  data.labels.forEach((label, i) => {
    const p = data.predictions[i];
    if (cellFilter && (label !== cellFilter[0] || p !== cellFilter[1])) return;
    if (wrongOnly && label === p) return;
    result.push(i);
  });
  return result;
}

function drawConfusion() {
  const table = document.getElementById('confusion');
  table.innerHTML = '';
  const head = table.insertRow();
  head.appendChild(document.createElement('th'));
  for (let c = 0; c < data.classes.length; c++) { const th = document.createElement('th'); th.textContent = name(c); head.appendChild(th); }
  data.confusion.forEach((row, label) => {
    const tr = table.insertRow();
    const th = document.createElement('th'); th.textContent = name(label); tr.appendChild(th);
    row.forEach((count, predicted) => {
      const td = tr.insertCell();
      td.textContent = count || '';
      td.className = label === predicted ? 'diag' : count ? 'off' : '';
      if (cellFilter && cellFilter[0] === label && cellFilter[1] === predicted) td.classList.add('selected');
      td.addEventListener('click', () => { cellFilter = [label, predicted]; page = 0; drawConfusion(); drawGrid(); });
    });
  });
}

function drawGrid() {
  const list = indices();
  const pages = Math.max(1, Math.ceil(list.length / perPage));
  page = Math.min(page, pages - 1);
  document.getElementById('page').textContent = ` page ${page + 1} of ${pages} (${list.length} images) `;
  document.getElementById('filter').innerHTML = cellFilter
    ? `label ${name(cellFilter[0])}, predicted ${name(cellFilter[1])} <a href="#" id="all">(show all)</a>` : '';
  const all = document.getElementById('all');
  if (all) all.addEventListener('click', e => { e.preventDefault(); cellFilter = null; drawConfusion(); drawGrid(); });
  const grid = document.getElementById('grid');
  grid.innerHTML = '';
  for (const i of list.slice(page * perPage, (page + 1) * perPage)) {
    const cell = document.createElement('div');
    const wrong = data.labels[i] !== data.predictions[i];
    cell.className = 'cell' + (wrong ? ' wrong' : '');
    cell.title = `test image ${i}: predicted ${name(data.predictions[i])}, label ${name(data.labels[i])}`;
    const img = document.createElement('img');
    img.src = data.images.replace('{index}', i); img.alt = `test image ${i}`;
    cell.appendChild(img);
    // The prediction first, as zerodl predict and misclassified print it: "#445 0≠6" is a 6 read as 0.
    cell.appendChild(document.createTextNode(`#${i} ${name(data.predictions[i])}${wrong ? '≠' + name(data.labels[i]) : ''}`));
    grid.appendChild(cell);
  }
}

function status(text) { document.getElementById('status').textContent = text || ''; }

document.getElementById('wrong').addEventListener('change', () => { page = 0; drawGrid(); });
document.getElementById('prev').addEventListener('click', () => { page = Math.max(0, page - 1); drawGrid(); });
document.getElementById('next').addEventListener('click', () => { page++; drawGrid(); });
document.getElementById('model').addEventListener('change', load);
load().catch(err => status('could not load: ' + err));
