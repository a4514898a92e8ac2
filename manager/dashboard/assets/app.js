// Sealant manager dashboard. Plain JavaScript, no dependencies: it calls
// the manager's JSON-RPC API with the user's token and renders the answers.
// Every number shown is also exposed as data-k (a stable key) and data-v
// (the raw value) so tests and scripts can read the page.
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const STALE_WORKER_MS = 2 * 60 * 1000;
  const TOKEN_KEY = 'sealant.dashboard.token';
  const RPC_URL = new URL('rpc/v0', document.baseURI).toString();
  const PHASES = ['active', 'finalized', 'aborted'];

  // JSON-RPC error codes (package rpc and api).
  const CODE_PERMISSION_DENIED = -32030;
  const CODE_UNAUTHENTICATED = -32031;
  const CODE_METHOD_NOT_FOUND = -32601;
  const CODE_MANAGER_PERMISSION = 1003;

  const $ = (id) => document.getElementById(id);
  let token = null;
  let timer = null;
  let seq = 0;
  let busy = false;

  class RPCError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
    get permission() {
      return this.code === CODE_PERMISSION_DENIED || this.code === CODE_MANAGER_PERMISSION || this.status === 403;
    }
    get unauthenticated() {
      return this.code === CODE_UNAUTHENTICATED || this.status === 401;
    }
  }

  async function call(method, ...params) {
    let res;
    try {
      res = await fetch(RPC_URL, {
        method: 'POST',
        cache: 'no-store',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++seq, method: method, params: params }),
      });
    } catch (e) {
      throw new RPCError(0, 'request failed (is the manager reachable?): ' + e.message, 0);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (body && body.error) {
      throw new RPCError(body.error.code, body.error.message || 'error', res.status);
    }
    if (!res.ok || !body) {
      throw new RPCError(0, 'HTTP ' + res.status, res.status);
    }
    return body.result;
  }

  // claims decodes (does not verify) the token's payload to say who the
  // page is acting as; the server alone decides what the token may see.
  function claims(tok) {
    try {
      const part = tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
    } catch (e) {
      return {};
    }
  }

  // el builds an element; children are nodes or strings (text, never HTML).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // num renders a number with its stable key.
  function num(key, value, text) {
    return el('span', { 'data-k': key, 'data-v': value }, text === undefined ? fmtInt(value) : text);
  }

  function fmtInt(n) {
    return Number(n || 0).toLocaleString('en-US');
  }

  function fmtBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = Number(n || 0);
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function fmtAge(ts) {
    if (!ts || ts.startsWith('0001-')) return '—';
    const ms = Date.now() - Date.parse(ts);
    if (!isFinite(ms)) return '—';
    let s = Math.max(0, Math.round(ms / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + s + 's';
    return s + 's';
  }

  function ageCell(ts) {
    return el('td', { title: ts || '' }, el('time', { datetime: ts || '' }, fmtAge(ts)));
  }

  function sectorName(id) {
    return id ? 'f0' + id.miner + '/' + id.number : '—';
  }

  function shortCID(c) {
    return c && c.length > 20 ? c.slice(0, 10) + '…' + c.slice(-6) : (c || '—');
  }

  function fill(tbody, rows, cols, emptyText) {
    tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: cols, class: 'empty' }, emptyText))]));
  }

  function note(id, text) {
    const n = $(id);
    n.hidden = !text;
    n.textContent = text || '';
  }

  // denied turns a failed call into the note shown in its section.
  function denied(what, err) {
    if (err.permission) return what + ' are not available to this token (admin only).';
    if (err.code === CODE_METHOD_NOT_FOUND) return what + ' are not served by this manager version.';
    return what + ' could not be loaded: ' + err.message;
  }

  function showAlert(text) {
    const a = $('alert');
    a.hidden = !text;
    a.textContent = text || '';
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  // ---- rendering -------------------------------------------------------

  function renderSummary(s) {
    const items = [
      ['tenants', 'Tenants'], ['workers', 'Workers'], ['threads', 'Threads'],
      ['sectors.active', 'Active sectors'], ['sectors.finalized', 'Finalized'], ['sectors.aborted', 'Aborted'],
      ['leases.expired', 'Expired leases'], ['batches.open', 'Open batches'], ['deliveries.inflight', 'Deliveries in flight'],
    ];
    $('summary').replaceChildren(...items.filter(([k]) => s[k] !== undefined).map(([k, label]) =>
      el('div', {}, el('dt', {}, label), el('dd', { class: k === 'leases.expired' && s[k] > 0 ? 'bad' : null }, num(k, s[k])))));
  }

  function renderTenants(ids, configs, counts) {
    const rows = ids.map((id) => {
      const t = configs[id] || {};
      const c = counts[id] || { phases: {}, expired: 0 };
      const p = (ph) => el('td', { class: 'num' }, num('tenant.' + id + '.' + ph, (c.phases || {})[ph] || 0));
      return el('tr', { 'data-tenant': id },
        el('th', { scope: 'row' }, id),
        el('td', {}, t.miner !== undefined ? 'f0' + t.miner : '—'),
        el('td', {}, t.sector_size ? fmtBytes(t.sector_size) : '—'),
        el('td', {}, t.weight !== undefined ? String(t.weight || 1) : '—'),
        el('td', {}, t.quota_per_day ? String(t.quota_per_day) : (t.id ? 'unlimited' : '—')),
        el('td', {}, t.quota_concurrent ? String(t.quota_concurrent) : (t.id ? 'unlimited' : '—')),
        el('td', { class: t.paused ? 'warn' : null }, t.id ? (t.paused ? 'paused' : 'running') : '—'),
        PHASES.map(p),
        el('td', { class: 'num' + (c.expired ? ' bad' : '') }, num('tenant.' + id + '.expired', c.expired || 0)));
    });
    fill($('tenants').tBodies[0], rows, 11, 'No tenants yet.');
  }

  function renderWorkers(workers) {
    const rows = [];
    for (const w of workers) {
      const stale = Date.now() - Date.parse(w.last_seen) > STALE_WORKER_MS;
      const threads = w.threads && w.threads.length ? w.threads : [null];
      for (const th of threads) {
        const notes = [];
        if (stale) notes.push(el('span', { class: 'bad' }, 'no heartbeat '));
        if (th && th.paused) notes.push(el('span', { class: 'warn' }, 'paused '));
        if (th && th.error) notes.push(el('span', { class: 'bad' }, th.error));
        if (th && (w.pending_pause || []).includes(th.name)) notes.push('pause pending ');
        if (th && (w.pending_resume || []).includes(th.name)) notes.push('resume pending ');
        rows.push(el('tr', th ? { 'data-thread': w.name + '/' + th.name } : { 'data-worker': w.name },
          el('th', { scope: 'row' }, w.name),
          el('td', {}, w.version || '—'),
          ageCell(w.last_seen),
          el('td', {}, th ? th.name : '(no threads)'),
          el('td', { 'data-f': 'state' }, th ? th.state : '—'),
          el('td', { 'data-f': 'stage' }, th ? (th.stage || '—') : '—'),
          el('td', { class: 'mono' }, th ? sectorName(th.sector) : '—'),
          th ? ageCell(th.since) : el('td', {}, '—'),
          el('td', { class: 'wrap' }, notes)));
      }
    }
    fill($('workers').tBodies[0], rows, 9, 'No worker has reported yet.');
  }

  function renderPipeline(ids, counts) {
    const totals = {};
    for (const id of ids) {
      for (const [st, n] of Object.entries((counts[id] || {}).states || {})) totals[st] = (totals[st] || 0) + n;
    }
    const states = Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b));
    const max = Math.max(1, ...Object.values(totals));
    const multi = ids.length > 1;
    const head = el('tr', {}, el('th', { scope: 'col' }, 'State'), el('th', { scope: 'col', class: 'num' }, 'Sectors'),
      el('th', { scope: 'col' }, 'Share'), multi ? ids.map((id) => el('th', { scope: 'col', class: 'num' }, id)) : []);
    $('pipeline').tHead.replaceChildren(head);
    const rows = states.map((st) => el('tr', { 'data-state': st },
      el('th', { scope: 'row' }, st),
      el('td', { class: 'num' }, num('pipeline.' + st, totals[st])),
      el('td', {}, el('meter', { min: 0, max: max, value: totals[st], 'aria-label': st + ': ' + totals[st] + ' sectors' })),
      multi ? ids.map((id) => el('td', { class: 'num' }, num('pipeline.' + st + '.' + id, ((counts[id] || {}).states || {})[st] || 0))) : []));
    fill($('pipeline').tBodies[0], rows, 3 + (multi ? ids.length : 0), 'No active sectors.');
  }

  function renderCounts(dl, prefix, counts) {
    const keys = Object.keys(counts).sort();
    dl.replaceChildren(...keys.map((k) => el('div', {}, el('dt', {}, k + ':'), el('dd', {}, num(prefix + k.replace('/', '.'), counts[k])))));
  }

  function renderBatches(ov) {
    renderCounts($('batch-counts'), 'batches.', ov.batch_counts || {});
    const rows = (ov.batches || []).slice().reverse().map((b) => {
      const m = b.message;
      let result = '—';
      if (m && m.error) result = el('span', { class: 'bad' }, m.error);
      else if (m && m.exit_code !== undefined && m.exit_code !== null) {
        result = el('span', { class: m.exit_code === 0 ? 'ok' : 'bad' }, 'exit ' + m.exit_code);
      }
      return el('tr', { 'data-batch': b.id },
        el('th', { scope: 'row' }, '#' + b.id),
        el('td', {}, b.tenant),
        el('td', {}, b.kind),
        el('td', { class: b.state === 'failed' ? 'bad' : null }, b.state),
        el('td', { class: 'num' }, num('batch.' + b.id + '.sectors', b.sectors)),
        ageCell(b.created_at),
        el('td', { class: 'mono', title: m ? m.cid || '' : '' }, m ? shortCID(m.cid) : '—'),
        el('td', { class: 'mono' }, m ? m.from + ' #' + m.nonce : '—'),
        el('td', {}, m ? m.state : '—'),
        el('td', { class: 'wrap' }, result));
    });
    fill($('batches').tBodies[0], rows, 10, 'No batches.');
  }

  function renderDeliveries(ov) {
    renderCounts($('delivery-counts'), 'deliveries.', ov.delivery_counts || {});
    const rows = (ov.deliveries || []).slice().reverse().map((d) => el('tr', { 'data-delivery': sectorName(d.sector) },
      el('th', { scope: 'row', class: 'mono' }, sectorName(d.sector)),
      el('td', {}, d.tenant),
      el('td', { class: d.state === 'rejected' ? 'bad' : (d.state === 'accepted' ? 'ok' : null) }, d.state),
      el('td', { class: 'num' }, String(d.attempts)),
      el('td', { class: 'mono' }, d.target || 'provider store'),
      el('td', { class: 'wrap' }, d.reason || ''),
      ageCell(d.updated_at)));
    fill($('deliveries').tBodies[0], rows, 7, 'No deliveries.');
  }

  function renderUsage(usage) {
    const rows = usage.map((u) => {
      const cpu = Object.entries(u.cpu_seconds || {}).sort();
      const total = cpu.reduce((a, [, v]) => a + v, 0);
      return el('tr', { 'data-usage': u.tenant },
        el('th', { scope: 'row' }, u.tenant),
        el('td', { class: 'num' }, num('usage.' + u.tenant + '.allocated', u.sectors_allocated)),
        el('td', { class: 'num' }, num('usage.' + u.tenant + '.finalized', u.sectors_finalized)),
        el('td', { class: 'num', title: fmtInt(u.bytes_finalized) + ' bytes' }, num('usage.' + u.tenant + '.bytes', u.bytes_finalized, fmtBytes(u.bytes_finalized))),
        el('td', { class: 'num' }, num('usage.' + u.tenant + '.cpu', total, total.toFixed(1))),
        el('td', { class: 'wrap' }, cpu.map(([k, v]) => k + ' ' + v.toFixed(1) + ' s').join(', ') || '—'));
    });
    fill($('usage').tBodies[0], rows, 6, 'No usage recorded in this period.');
  }

  // ---- data ------------------------------------------------------------

  // countFromSectors is the fallback when SealantDashboard.Overview is not
  // served: counts from ListSectors (capped at 1000 per phase by the API).
  async function countFromSectors() {
    const lists = await Promise.all(PHASES.map((ph) => call('Sealant.ListSectors', { phase: ph, limit: 1000 })));
    const counts = {};
    let capped = false;
    lists.forEach((list, i) => {
      if ((list || []).length >= 1000) capped = true;
      for (const s of list || []) {
        const c = counts[s.tenant] || (counts[s.tenant] = { tenant: s.tenant, phases: {}, states: {}, expired: 0 });
        c.phases[PHASES[i]] = (c.phases[PHASES[i]] || 0) + 1;
        if (PHASES[i] === 'active') {
          c.states[s.state] = (c.states[s.state] || 0) + 1;
          if (s.lease_expired) c.expired++;
        }
      }
    });
    return { counts: Object.values(counts), capped: capped };
  }

  async function refresh() {
    if (!token || busy) return;
    busy = true;
    try {
      await load();
    } finally {
      busy = false;
    }
  }

  async function load() {
    const who = claims(token);
    const [tenants, workers, usage, overview] = await Promise.allSettled([
      call('Sealant.AdminTenantList'),
      call('Sealant.AdminWorkers'),
      call('Sealant.Usage', {}),
      call('SealantDashboard.Overview', {}),
    ]);
    const failures = [tenants, workers, usage, overview].filter((r) => r.status === 'rejected').map((r) => r.reason);
    const auth = failures.find((e) => e.unauthenticated);
    if (auth) {
      document.body.dataset.state = 'error';
      showAlert('The manager rejected this token: ' + auth.message + '. Paste a valid admin or tenant token.');
      setStatus('Not connected.');
      $('main').hidden = true;
      return;
    }
    if (usage.status === 'rejected' && overview.status === 'rejected') {
      document.body.dataset.state = 'error';
      const e = usage.reason;
      showAlert(e.permission
        ? 'This token may not read the dashboard data (it needs an admin or tenant token, not a worker or signer token).'
        : 'Could not load data: ' + e.message);
      $('main').hidden = true;
      setStatus('Last attempt ' + new Date().toLocaleTimeString() + ' failed.');
      return;
    }
    showAlert('');

    // Per-tenant sector counts: from Overview, else from ListSectors.
    let counts = [];
    let ov = null;
    if (overview.status === 'fulfilled') {
      ov = overview.value;
      counts = ov.tenants || [];
      note('pipeline-note', counts.some((c) => c.capped) ? 'Counts reached the per-phase limit and are lower bounds.' : '');
      note('batches-note', '');
      note('deliveries-note', '');
    } else {
      const why = denied('Batches, messages and deliveries', overview.reason);
      note('batches-note', why);
      note('deliveries-note', why);
      try {
        const fb = await countFromSectors();
        counts = fb.counts;
        note('pipeline-note', fb.capped ? 'Counted from the first 1000 sectors per phase only.' : '');
      } catch (e) {
        note('pipeline-note', 'Sectors could not be loaded: ' + e.message);
      }
    }
    const byTenant = Object.fromEntries(counts.map((c) => [c.tenant, c]));

    const configs = {};
    if (tenants.status === 'fulfilled') {
      for (const t of tenants.value || []) configs[t.id] = t;
      note('tenants-note', '');
    } else {
      note('tenants-note', tenants.reason.permission
        ? 'Tenant settings are visible to the admin only; this token sees its own sectors.'
        : denied('Tenant settings', tenants.reason));
    }
    const usageRows = usage.status === 'fulfilled' ? (usage.value || []) : [];
    const ids = [...new Set([...Object.keys(configs), ...counts.map((c) => c.tenant), ...usageRows.map((u) => u.tenant)])].sort();

    const summary = {
      'tenants': ids.length,
      'sectors.active': counts.reduce((a, c) => a + ((c.phases || {}).active || 0), 0),
      'sectors.finalized': counts.reduce((a, c) => a + ((c.phases || {}).finalized || 0), 0),
      'sectors.aborted': counts.reduce((a, c) => a + ((c.phases || {}).aborted || 0), 0),
      'leases.expired': counts.reduce((a, c) => a + (c.expired || 0), 0),
    };
    if (workers.status === 'fulfilled') {
      const ws = workers.value || [];
      summary.workers = ws.length;
      summary.threads = ws.reduce((a, w) => a + (w.threads || []).length, 0);
      renderWorkers(ws);
      note('workers-note', '');
    } else {
      renderWorkers([]);
      note('workers-note', denied('Workers and threads', workers.reason));
    }
    if (ov) {
      summary['batches.open'] = Object.entries(ov.batch_counts || {}).filter(([k]) => k.endsWith('/open')).reduce((a, [, v]) => a + v, 0);
      const dc = ov.delivery_counts || {};
      summary['deliveries.inflight'] = (dc.pending || 0) + (dc.transferring || 0) + (dc.verifying || 0);
      renderBatches(ov);
      renderDeliveries(ov);
    } else {
      renderBatches({});
      renderDeliveries({});
    }
    renderSummary(summary);
    renderTenants(ids, configs, byTenant);
    renderPipeline(ids, byTenant);
    if (usage.status === 'fulfilled') {
      renderUsage(usageRows);
      note('usage-note', '');
    } else {
      renderUsage([]);
      note('usage-note', denied('Usage figures', usage.reason));
    }

    const role = who.role || 'unknown';
    document.body.dataset.role = role;
    document.body.dataset.tenant = who.tenant || '';
    document.body.dataset.state = 'ready';
    $('main').hidden = false;
    setStatus('Connected as ' + role + (who.tenant ? ' of tenant ' + who.tenant : '') +
      '. Updated ' + new Date().toLocaleTimeString() + ($('auto').checked ? '; refreshing every ' + REFRESH_MS / 1000 + ' s.' : '.'));
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if (token && $('auto').checked) timer = setInterval(refresh, REFRESH_MS);
  }

  function init() {
    // A ?token= link is convenient for sharing a read-only view; move the
    // token into sessionStorage and drop it from the address bar/history.
    const params = new URLSearchParams(location.search);
    if (params.get('token')) {
      sessionStorage.setItem(TOKEN_KEY, params.get('token').trim());
      params.delete('token');
      const q = params.toString();
      history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
    }
    token = sessionStorage.getItem(TOKEN_KEY);
    $('login').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (!t) return;
      token = t;
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token').value = '';
      setStatus('Connecting…');
      refresh();
      schedule();
    });
    $('forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      schedule();
      $('main').hidden = true;
      showAlert('');
      document.body.dataset.state = 'login';
      setStatus('Token forgotten. Paste a token to connect.');
    });
    $('auto').addEventListener('change', () => {
      schedule();
      if ($('auto').checked) refresh();
    });
    if (token) {
      setStatus('Connecting…');
      refresh();
      schedule();
    }
  }

  init();
}());
