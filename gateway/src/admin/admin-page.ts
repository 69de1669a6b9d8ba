/**
 * The admin page: plain HTML and one inline script that reads `/api/*` every 1.5 s. Every value
 * from the network (instance and session ids come from the discoverer and the clients) is shown
 * through `textContent`, never parsed as HTML.
 */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gateway admin</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .3em 0 1em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; }
td.state-free { color: #176f2c; } td.state-bound { color: #0b4f9c; font-weight: 600; }
td.state-retained { color: #8a6100; } td.state-ejected, td.state-draining { color: #a3171c; }
#status { color: #666; } #token { width: 18em; }
</style>
</head>
<body>
<h1>gateway admin</h1>
<p id="status">loading…</p>
<p><label>Admin token (actions): <input id="token" type="password" autocomplete="off"></label></p>
<p><button id="reload">reload the config</button> <span id="action"></span></p>
<h2>Counters</h2><table id="stats"></table>
<h2>Routes</h2><table id="routes"></table>
<h2>Clusters</h2><div id="clusters"></div>
<h2>Sessions</h2><table id="sessions"></table>
<script>
'use strict';
const tokenInput = document.getElementById('token');
tokenInput.value = sessionStorage.getItem('admin-token') || '';
tokenInput.addEventListener('change', () => sessionStorage.setItem('admin-token', tokenInput.value));
function headers() {
  return tokenInput.value ? { authorization: 'Bearer ' + tokenInput.value } : {};
}
function shorten(id) {
  return id.length > 8 ? id.slice(0, 8) + '\\u2026' : id;
}
function cell(row, value, className) {
  const td = document.createElement('td');
  td.textContent = String(value);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}
function table(element, columns, rows) {
  const head = document.createElement('tr');
  for (const column of columns) {
    const th = document.createElement('th');
    th.textContent = column;
    head.appendChild(th);
  }
  const body = [head];
  for (const values of rows) {
    const tr = document.createElement('tr');
    for (const value of values) {
      if (value instanceof Node) tr.appendChild(value);
      else if (value && typeof value === 'object') cell(tr, value.text, value.className).title = value.title || '';
      else cell(tr, value);
    }
    body.push(tr);
  }
  element.replaceChildren(...body);
}
function actionButton(label, path) {
  const td = document.createElement('td');
  const button = document.createElement('button');
  button.textContent = label;
  button.addEventListener('click', async () => {
    const answer = await fetch(path, { method: 'POST', headers: headers() });
    const body = await answer.json().catch(() => ({}));
    // Apart from #status, which every refresh overwrites.
    document.getElementById('action').textContent =
      label + ': HTTP ' + answer.status + (body.error ? ' (' + body.error + ')' : '');
    refresh();
  });
  td.appendChild(button);
  return td;
}
function releaseButton(cluster, session) {
  return actionButton('release',
    '/api/clusters/' + encodeURIComponent(cluster) + '/sessions/' + encodeURIComponent(session) + '/release');
}
function drainButton(cluster, instance) {
  return actionButton('drain',
    '/api/clusters/' + encodeURIComponent(cluster) + '/instances/' + encodeURIComponent(instance) + '/drain');
}
async function get(path) {
  const answer = await fetch(path, { headers: headers(), cache: 'no-store' });
  if (!answer.ok) throw new Error(path + ': HTTP ' + answer.status);
  return answer.json();
}
async function refresh() {
  try {
    const [stats, routes, clusters, sessions] = await Promise.all(
      ['/api/stats', '/api/routes', '/api/clusters', '/api/sessions'].map(get));
    table(document.getElementById('stats'), ['counter', 'value'], Object.entries(stats));
    table(document.getElementById('routes'), ['prefix', 'cluster', 'balancer', 'authorization'],
      routes.map((route) => [route.prefix, route.cluster, route.balancer, route.authorization]));
    const holder = document.getElementById('clusters');
    const sections = [];
    for (const cluster of clusters) {
      const title = document.createElement('h3');
      title.textContent = cluster.id + ' (' + cluster.type +
        (cluster.discovered === false ? ', not discovered yet' : '') + ', ' + cluster.instances.length + ' instances)';
      const instances = document.createElement('table');
      instances.className = 'instances';
      table(instances, ['instance', 'address', 'state', 'session', ''], cluster.instances.map((instance) => [
        instance.id, instance.address,
        { text: instance.state + (instance.ejectedBy ? ' (' + instance.ejectedBy + ')' : ''), className: 'state-' + instance.state },
        instance.session === undefined ? '' : { text: shorten(instance.session), title: instance.session },
        instance.state === 'draining' || instance.state === 'retained' ? '' : drainButton(cluster.id, instance.id),
      ]));
      sections.push(title, instances);
    }
    holder.replaceChildren(...sections);
    table(document.getElementById('sessions'), ['cluster', 'session', 'instance', ''], sessions.map((binding) => [
      binding.cluster, { text: shorten(binding.session), title: binding.session }, binding.instance,
      releaseButton(binding.cluster, binding.session),
    ]));
    document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    document.getElementById('status').textContent = 'refresh failed: ' + err.message;
  }
}
document.getElementById('reload').addEventListener('click', async () => {
  const answer = await fetch('/api/reload', { method: 'POST', headers: headers() });
  const body = await answer.json().catch(() => ({}));
  document.getElementById('action').textContent =
    'reload: HTTP ' + answer.status + (body.error ? ' (' + body.error + ')' : '');
  refresh();
});
refresh();
setInterval(refresh, 1500);
</script>
</body>
</html>
`;
