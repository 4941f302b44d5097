// arkiv's admin page: plain JavaScript, no framework, no external network.
// Every value from the server is rendered with textContent (never parsed
// as HTML), and every state-changing request carries the session's CSRF
// token in X-CSRF-Token.
'use strict';

(function () {
  const L = {
    en: {
      navSearch: 'Search', navAnon: 'Anonymise', navAudit: 'Audit log', signOut: 'Sign out',
      signInTitle: 'Sign in', token: 'API token', supportOnly: 'Support token only', tenant: 'Tenant',
      reason: 'Reason (audited)', signIn: 'Sign in',
      signInHint: 'Paste a token made with arkiv token. The page keeps a session cookie, not the token.',
      searchTitle: 'Search inquiries', fNumber: 'Phone number', fName: 'Name', fEmail: 'E-mail',
      fFrom: 'From date', fTo: 'To date (inclusive)', fQueue: 'Queue', fAgent: 'Agent', fMedia: 'Media',
      fHasRec: 'Has recording', fHasChat: 'Has chat log', fMinScore: 'Score from', fMaxScore: 'Score to',
      fSession: 'Session id', pageSize: 'Per page', search: 'Search', clear: 'Clear', any: 'any', yes: 'yes',
      no: 'no', mPhone: 'phone', mChat: 'chat', mEmail: 'e-mail', mEtask: 'e-task', mSocial: 'social',
      xlsx: 'Download xlsx of the search', zip: 'Download recordings of selected (zip)',
      wChatlog: 'chat logs', wRecording: 'recordings', wBoth: 'recordings and chat logs',
      deleteSelected: 'Delete from selected', cStarted: 'Started', cMedia: 'Media', cQueue: 'Queue',
      cAgent: 'Agent', cCustomer: 'Customer', cScore: 'Score', cRec: 'Rec.', cChat: 'Chat',
      prev: 'Previous', next: 'Next', back: 'Back to the results', inquiry: 'Inquiry', chatlog: 'Chat log',
      downloadXml: 'Download XML', copyText: 'Copy as text', deleteChatlog: 'Delete chat log',
      anonTitle: 'Anonymise a person', anonNumbers: 'Phone numbers, one per line',
      anonEmails: 'E-mail addresses, one per line', anonDelete: 'Also delete recordings and chat logs',
      anonDry: 'Dry run (change nothing)', anonymise: 'Anonymise', receipt: 'Receipt', auditTitle: 'Audit log',
      actor: 'Actor', show: 'Show', time: 'Time', kind: 'Kind', action: 'Action', requestId: 'Request id',
      open: 'Open', page: 'Page', selected: 'selected', noResults: 'No inquiries match.',
      chartTitle: 'Inquiries per day (UTC)', chartCapped: 'first 1000 only',
      recording: 'Recording', downloadMp3: 'Download mp3', deleteRecording: 'Delete recording',
      recGone: 'The recording is no longer available.', copied: 'Copied to the clipboard.',
      copyFailed: 'Could not copy; the text is shown below.', noneSelected: 'Select inquiries first.',
      confirmDelete: 'Delete {what} of {n} inquiries? This cannot be undone.',
      confirmDeleteOne: 'Delete the {what} of this inquiry? This cannot be undone.',
      confirmAnon: 'Anonymise the person with {n} number(s)/address(es)? This cannot be undone.',
      deleted: 'Deleted: {q} inquiries, {m} recordings, {c} chat log rows.',
      anonNeedsInput: 'Give at least one phone number or e-mail address.', noEntries: 'No audit entries.',
      signedOut: 'Signed out.', downloading: 'Downloading…', yesMark: '✓',
      k_inquiry_id: 'Inquiry id', k_session_id: 'Session id', k_media_type: 'Media', k_started_at: 'Started',
      k_ended_at: 'Ended', k_queue: 'Queue', k_agent_id: 'Agent id', k_agent_name: 'Agent',
      k_wait_seconds: 'Wait (s)', k_talk_seconds: 'Talk (s)', k_caller_number: 'Caller number',
      k_chatter_name: 'Chatter name', k_chatter_email: 'Chatter e-mail', k_chatter_number: 'Chatter number',
      k_from_address: 'From address', k_subject: 'Subject', k_item_url: 'Item URL', k_survey_score: 'Survey score',
      k_anonymised: 'Anonymised', k_has_recording: 'Has recording', k_has_chatlog: 'Has chat log',
      k_receipt_id: 'Receipt id', k_request_id: 'Request id', k_tenant: 'Tenant', k_dry_run: 'Dry run',
      k_delete_content: 'Content deleted too', k_inquiries: 'Inquiries', k_rows_anonymised: 'Rows anonymised',
      k_content_deleted: 'Content deleted', k_files_rewritten: 'Files rewritten', k_files_added: 'Files added',
      k_started: 'Started', k_duration: 'Duration', k_person_ref: 'Person reference'
    },
    sv: {
      navSearch: 'Sök', navAnon: 'Anonymisera', navAudit: 'Granskningslogg', signOut: 'Logga ut',
      signInTitle: 'Logga in', token: 'API-token', supportOnly: 'Endast supporttoken', tenant: 'Kund (tenant)',
      reason: 'Anledning (loggas)', signIn: 'Logga in',
      signInHint: 'Klistra in en token från arkiv token. Sidan sparar en sessionskaka, inte din token.',
      searchTitle: 'Sök ärenden', fNumber: 'Telefonnummer', fName: 'Namn', fEmail: 'E-post',
      fFrom: 'Från datum', fTo: 'Till datum (inklusive)', fQueue: 'Kö', fAgent: 'Handläggare', fMedia: 'Kanal',
      fHasRec: 'Har inspelning', fHasChat: 'Har chattlogg', fMinScore: 'Betyg från', fMaxScore: 'Betyg till',
      fSession: 'Sessions-id', pageSize: 'Per sida', search: 'Sök', clear: 'Rensa', any: 'alla', yes: 'ja',
      no: 'nej', mPhone: 'telefon', mChat: 'chatt', mEmail: 'e-post', mEtask: 'e-uppgift', mSocial: 'sociala medier',
      xlsx: 'Ladda ner sökningen som xlsx', zip: 'Ladda ner valda inspelningar (zip)',
      wChatlog: 'chattloggar', wRecording: 'inspelningar', wBoth: 'inspelningar och chattloggar',
      deleteSelected: 'Radera från valda', cStarted: 'Start', cMedia: 'Kanal', cQueue: 'Kö',
      cAgent: 'Handläggare', cCustomer: 'Kund', cScore: 'Betyg', cRec: 'Insp.', cChat: 'Chatt',
      prev: 'Föregående', next: 'Nästa', back: 'Tillbaka till resultaten', inquiry: 'Ärende', chatlog: 'Chattlogg',
      downloadXml: 'Ladda ner XML', copyText: 'Kopiera som text', deleteChatlog: 'Radera chattloggen',
      anonTitle: 'Anonymisera en person', anonNumbers: 'Telefonnummer, ett per rad',
      anonEmails: 'E-postadresser, en per rad', anonDelete: 'Radera även inspelningar och chattloggar',
      anonDry: 'Provkörning (ändra inget)', anonymise: 'Anonymisera', receipt: 'Kvitto', auditTitle: 'Granskningslogg',
      actor: 'Utförare', show: 'Visa', time: 'Tid', kind: 'Typ', action: 'Åtgärd', requestId: 'Förfrågans id',
      open: 'Öppna', page: 'Sida', selected: 'valda', noResults: 'Inga ärenden matchar.',
      chartTitle: 'Ärenden per dag (UTC)', chartCapped: 'endast de första 1000',
      recording: 'Inspelning', downloadMp3: 'Ladda ner mp3', deleteRecording: 'Radera inspelningen',
      recGone: 'Inspelningen finns inte längre.', copied: 'Kopierat till urklipp.',
      copyFailed: 'Kunde inte kopiera; texten visas nedan.', noneSelected: 'Välj ärenden först.',
      confirmDelete: 'Radera {what} för {n} ärenden? Det går inte att ångra.',
      confirmDeleteOne: 'Radera ärendets {what}? Det går inte att ångra.',
      confirmAnon: 'Anonymisera personen med {n} nummer/adress(er)? Det går inte att ångra.',
      deleted: 'Raderat: {q} ärenden, {m} inspelningar, {c} chattloggrader.',
      anonNeedsInput: 'Ange minst ett telefonnummer eller en e-postadress.', noEntries: 'Inga loggposter.',
      signedOut: 'Utloggad.', downloading: 'Laddar ner…', yesMark: '✓',
      k_inquiry_id: 'Ärende-id', k_session_id: 'Sessions-id', k_media_type: 'Kanal', k_started_at: 'Start',
      k_ended_at: 'Slut', k_queue: 'Kö', k_agent_id: 'Handläggar-id', k_agent_name: 'Handläggare',
      k_wait_seconds: 'Väntetid (s)', k_talk_seconds: 'Samtalstid (s)', k_caller_number: 'Uppringande nummer',
      k_chatter_name: 'Chattarens namn', k_chatter_email: 'Chattarens e-post', k_chatter_number: 'Chattarens nummer',
      k_from_address: 'Avsändare', k_subject: 'Ämne', k_item_url: 'Länk', k_survey_score: 'Enkätbetyg',
      k_anonymised: 'Anonymiserad', k_has_recording: 'Har inspelning', k_has_chatlog: 'Har chattlogg',
      k_receipt_id: 'Kvitto-id', k_request_id: 'Förfrågans id', k_tenant: 'Kund (tenant)', k_dry_run: 'Provkörning',
      k_delete_content: 'Innehåll raderat också', k_inquiries: 'Ärenden', k_rows_anonymised: 'Anonymiserade rader',
      k_content_deleted: 'Raderat innehåll', k_files_rewritten: 'Omskrivna filer', k_files_added: 'Tillagda filer',
      k_started: 'Start', k_duration: 'Tid', k_person_ref: 'Personreferens'
    }
  };

  const $ = (sel) => document.querySelector(sel);
  const state = {
    lang: 'en', session: null,
    filters: null, cursors: [''], page: 0, next: '', rows: [], selected: new Set(),
    detailId: ''
  };

  // --- language ---------------------------------------------------------
  function t(key, vars) {
    let s = (L[state.lang] && L[state.lang][key]) || L.en[key] || key;
    if (vars) for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  }
  function applyLang() {
    document.documentElement.lang = state.lang;
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    $('#lang-btn').textContent = state.lang === 'sv' ? 'English' : 'svenska';
    updateSelCount();
    if (state.rows.length || state.filters) renderRows();
  }
  function initLang() {
    let saved = '';
    try { saved = localStorage.getItem('arkiv.lang') || ''; } catch (e) { /* storage off */ }
    const nav = (navigator.language || 'en').toLowerCase();
    state.lang = saved === 'sv' || saved === 'en' ? saved : (nav.startsWith('sv') ? 'sv' : 'en');
  }

  // --- small DOM helpers (text only) ------------------------------------
  function el(tag, opts, ...kids) {
    const e = document.createElement(tag);
    if (opts) {
      for (const [k, v] of Object.entries(opts)) {
        if (v === undefined || v === null) continue;
        if (k === 'text') e.textContent = v;
        else if (k === 'i18n') { e.dataset.i18n = v; e.textContent = t(v); }
        else if (k === 'cls') e.className = v;
        else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
        else e.setAttribute(k, v);
      }
    }
    for (const k of kids) e.append(k);
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function showMsg(text, kind) {
    const m = $('#msg');
    m.textContent = text;
    m.className = kind || 'ok';
    m.hidden = !text;
  }
  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    return d.toLocaleString(state.lang === 'sv' ? 'sv-SE' : 'en-GB');
  }
  function has(role) { return !!state.session && state.session.roles.includes(role); }

  // --- API ------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  async function api(method, path, body, raw) {
    const headers = { 'Accept': 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf_token;
    const r = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    if (!r.ok) {
      let code = '', msg = 'HTTP ' + r.status;
      try { const j = await r.json(); code = j.error.code; msg = j.error.message; } catch (e) { /* not JSON */ }
      if (r.status === 401 && path !== '/session' && state.session) {
        state.session = null;
        route();
      }
      throw new ApiError(r.status, code, msg);
    }
    if (raw) return r;
    if (r.status === 204) return null;
    const ct = r.headers.get('Content-Type') || '';
    return ct.startsWith('application/json') ? r.json() : r.text();
  }
  function fail(err) { showMsg(err && err.message ? err.message : String(err), 'error'); }

  async function saveBlob(resp, fallbackName) {
    let name = fallbackName;
    const cd = resp.headers.get('Content-Disposition') || '';
    const m = /filename="([^"]+)"/.exec(cd);
    if (m) name = m[1];
    const url = URL.createObjectURL(await resp.blob());
    const a = el('a', { href: url, download: name, hidden: '' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // --- session ----------------------------------------------------------
  async function signIn(ev) {
    ev.preventDefault();
    const body = { token: $('#token').value.trim() };
    const tenant = $('#support-tenant').value.trim(), reason = $('#support-reason').value.trim();
    if (tenant) body.tenant = tenant;
    if (reason) body.reason = reason;
    try {
      state.session = await api('POST', '/session', body);
      $('#token').value = '';
      showMsg('');
      if (!location.hash || location.hash === '#/signin') location.hash = '#/search';
      route();
    } catch (e) { fail(e); }
  }
  async function signOut() {
    try { await api('POST', '/session/logout'); } catch (e) { /* gone anyway */ }
    state.session = null;
    state.rows = []; state.filters = null; state.selected.clear();
    showMsg(t('signedOut'));
    route();
  }

  // --- views ------------------------------------------------------------
  const views = ['signin', 'search', 'detail', 'anon', 'audit'];
  function show(name) {
    for (const v of views) $('#view-' + v).hidden = v !== name;
    const signedIn = !!state.session;
    $('#nav').hidden = !signedIn;
    $('#signout-btn').hidden = !signedIn;
    $('#who').textContent = signedIn
      ? (state.session.support ? 'support · ' : '') + state.session.tenant + ' · ' + state.session.token_name : '';
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.getAttribute('href') === '#/' + name);
    document.body.dataset.view = name;
  }
  function applyRoles() {
    for (const e of document.querySelectorAll('[data-role]')) e.hidden = !has(e.dataset.role);
    $('#nav-anon').hidden = !has('privacy');
    $('#nav-audit').hidden = !has('audit');
    $('#nav-search').hidden = !has('viewer');
  }
  function route() {
    if (!state.session) { show('signin'); return; }
    applyRoles();
    const h = location.hash || '';
    if (h.startsWith('#/inquiry/')) {
      show('detail');
      loadDetail(decodeURIComponent(h.slice('#/inquiry/'.length)));
    } else if (h === '#/anonymise' && has('privacy')) {
      show('anon');
    } else if (h === '#/audit' && has('audit')) {
      show('audit');
      loadAudit();
    } else {
      show('search');
    }
  }

  // --- search -----------------------------------------------------------
  function addDay(d) {
    const [y, m, day] = d.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, day + 1)).toISOString().slice(0, 10);
  }
  function readFilters() {
    const f = {};
    const text = { number: '#f-number', name: '#f-name', email: '#f-email', queue: '#f-queue', agent: '#f-agent',
      media: '#f-media', session: '#f-session', from: '#f-from', to: '#f-to',
      has_recording: '#f-has-recording', has_chatlog: '#f-has-chatlog', min_score: '#f-min-score', max_score: '#f-max-score' };
    for (const [k, sel] of Object.entries(text)) {
      const v = $(sel).value.trim();
      if (v !== '') f[k] = v;
    }
    if (f.to) f.to = addDay(f.to); // the API's "to" is exclusive
    return f;
  }
  function exportBody(f) {
    const b = {};
    for (const [k, v] of Object.entries(f)) {
      if (k === 'has_recording' || k === 'has_chatlog') b[k] = v === 'true';
      else if (k === 'min_score' || k === 'max_score') b[k] = Number(v);
      else b[k] = v;
    }
    return b;
  }
  function searchURL(f, limit, cursor) {
    const p = new URLSearchParams(f);
    p.set('limit', String(limit));
    if (cursor) p.set('cursor', cursor);
    return '/api/v1/search?' + p.toString();
  }
  async function runSearch(ev) {
    if (ev) ev.preventDefault();
    state.filters = readFilters();
    state.cursors = [''];
    state.page = 0;
    state.selected.clear();
    showMsg('');
    await loadPage();
    loadChart();
  }
  async function loadPage() {
    const limit = Number($('#f-limit').value) || 50;
    try {
      const res = await api('GET', searchURL(state.filters, limit, state.cursors[state.page]));
      state.rows = res.results;
      state.next = res.next_cursor || '';
      $('#results-area').hidden = false;
      renderRows();
    } catch (e) { fail(e); }
  }
  function customerOf(q) {
    return q.caller_number || q.chatter_name || q.chatter_email || q.chatter_number || q.from_address || '';
  }
  function renderRows() {
    const tb = $('#results tbody');
    clear(tb);
    if (!state.rows.length) {
      tb.append(el('tr', null, el('td', { colspan: '10', cls: 'empty', i18n: 'noResults' })));
    }
    for (const q of state.rows) {
      const cb = el('input', { type: 'checkbox', cls: 'row-select', 'aria-label': q.inquiry_id });
      cb.checked = state.selected.has(q.inquiry_id);
      cb.addEventListener('change', () => {
        if (cb.checked) state.selected.add(q.inquiry_id); else state.selected.delete(q.inquiry_id);
        updateSelCount();
      });
      const open = el('a', { href: '#/inquiry/' + encodeURIComponent(q.inquiry_id), cls: 'open', text: t('open') });
      tb.append(el('tr', { 'data-id': q.inquiry_id },
        el('td', null, cb),
        el('td', { text: fmtTime(q.started_at) }),
        el('td', { text: q.media_type }),
        el('td', { text: q.queue }),
        el('td', { text: q.agent_name || q.agent_id }),
        el('td', { text: customerOf(q) }),
        el('td', { text: q.survey_score === null || q.survey_score === undefined ? '' : String(q.survey_score) }),
        el('td', { text: q.has_recording ? t('yesMark') : '' }),
        el('td', { text: q.has_chatlog ? t('yesMark') : '' }),
        el('td', null, open)));
    }
    $('#page-no').textContent = t('page') + ' ' + (state.page + 1);
    $('#prev-btn').disabled = state.page === 0;
    $('#next-btn').disabled = !state.next;
    updateSelCount();
  }
  function updateSelCount() {
    $('#sel-count').textContent = state.selected.size + ' ' + t('selected');
    const boxes = document.querySelectorAll('#results .row-select');
    const all = $('#select-all');
    const on = [...boxes].filter((b) => b.checked).length;
    all.checked = boxes.length > 0 && on === boxes.length;
    all.indeterminate = on > 0 && on < boxes.length;
  }
  function selectAll() {
    const on = $('#select-all').checked;
    for (const q of state.rows) { if (on) state.selected.add(q.inquiry_id); else state.selected.delete(q.inquiry_id); }
    for (const b of document.querySelectorAll('#results .row-select')) b.checked = on;
    updateSelCount();
  }

  // The chart counts the first 1000 inquiries of the search by UTC day.
  async function loadChart() {
    const box = $('#chart');
    clear(box);
    let res;
    try { res = await api('GET', searchURL(state.filters, 1000, '')); } catch (e) { return; }
    const counts = new Map();
    for (const q of res.results) {
      const d = String(q.started_at).slice(0, 10);
      counts.set(d, (counts.get(d) || 0) + 1);
    }
    if (!counts.size) return;
    const days = [...counts.keys()].sort();
    const all = [];
    for (let d = days[0]; d <= days[days.length - 1] && all.length < 400; d = addDay(d)) all.push(d);
    const max = Math.max(...counts.values());
    const W = 720, H = 120, pad = 20, bw = Math.min(48, Math.max(1, (W - 2 * pad) / all.length));
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H + 30}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('class', 'chart');
    const text = (x, y, s, anchor) => {
      const e = document.createElementNS(NS, 'text');
      e.setAttribute('x', x); e.setAttribute('y', y);
      if (anchor) e.setAttribute('text-anchor', anchor);
      e.textContent = s;
      svg.append(e);
    };
    all.forEach((d, i) => {
      const n = counts.get(d) || 0;
      const h = Math.round((n / max) * H);
      const r = document.createElementNS(NS, 'rect');
      r.setAttribute('x', String(pad + i * bw));
      r.setAttribute('y', String(H - h + 10));
      r.setAttribute('width', String(Math.max(1, bw - 1)));
      r.setAttribute('height', String(h));
      r.setAttribute('class', 'bar');
      const title = document.createElementNS(NS, 'title');
      title.textContent = d + ': ' + n;
      r.append(title);
      svg.append(r);
    });
    text(pad, H + 25, all[0], 'start');
    const right = Math.max(pad + 90, pad + all.length * bw);
    if (all.length > 1) text(right, H + 25, all[all.length - 1], 'end');
    text(right, 10, 'max ' + max, 'end');
    box.append(el('div', { cls: 'chart-title', text: t('chartTitle') + (res.next_cursor ? ' — ' + t('chartCapped') : '') }), svg);
  }

  async function downloadXlsx() {
    if (!state.filters) return;
    try {
      showMsg(t('downloading'));
      await saveBlob(await api('POST', '/api/v1/exports/xlsx', exportBody(state.filters), true), 'inquiries.xlsx');
      showMsg('');
    } catch (e) { fail(e); }
  }
  async function downloadZip() {
    if (!state.selected.size) { showMsg(t('noneSelected'), 'error'); return; }
    try {
      showMsg(t('downloading'));
      await saveBlob(await api('POST', '/api/v1/exports/recordings', { inquiry_ids: [...state.selected] }, true), 'recordings.zip');
      showMsg('');
    } catch (e) { fail(e); }
  }
  function whatText(what) {
    return t({ chatlog: 'wChatlog', recording: 'wRecording', both: 'wBoth' }[what]);
  }
  async function deleteContent(ids, what) {
    const r = await api('POST', '/api/v1/content/delete', { inquiry_ids: ids, what });
    showMsg(t('deleted', { q: r.inquiries, m: r.media_objects, c: r.chatlog_rows_removed }));
    return r;
  }
  async function bulkDelete() {
    const n = state.selected.size;
    if (!n) { showMsg(t('noneSelected'), 'error'); return; }
    const what = $('#delete-what').value;
    if (!window.confirm(t('confirmDelete', { what: whatText(what), n }))) return;
    try {
      await deleteContent([...state.selected], what);
      state.selected.clear();
      await loadPage();
    } catch (e) { fail(e); }
  }

  // --- inquiry detail ---------------------------------------------------
  const detailKeys = ['inquiry_id', 'session_id', 'media_type', 'started_at', 'ended_at', 'queue', 'agent_id',
    'agent_name', 'wait_seconds', 'talk_seconds', 'caller_number', 'chatter_name', 'chatter_email',
    'chatter_number', 'from_address', 'subject', 'item_url', 'survey_score', 'anonymised', 'has_recording',
    'has_chatlog'];
  function valueText(k, v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'boolean') return v ? t('yes') : t('no');
    if (k.endsWith('_at') || k === 'started' || k === 'time') return fmtTime(v);
    if (typeof v === 'object') return Object.entries(v).map(([a, b]) => a + ': ' + b).join(', ');
    return String(v);
  }
  function fillDL(dl, obj, keys) {
    clear(dl);
    for (const k of keys) {
      if (!(k in obj) || obj[k] === null || obj[k] === '') continue;
      dl.append(el('dt', { i18n: 'k_' + k }), el('dd', { text: valueText(k, obj[k]), 'data-key': k }));
    }
  }
  async function loadDetail(id) {
    state.detailId = id;
    $('#detail-id').textContent = id;
    clear($('#detail-fields'));
    clear($('#detail-recordings'));
    clear($('#chatlog'));
    $('#detail-chat').hidden = true;
    const base = '/api/v1/inquiries/' + encodeURIComponent(id);
    let d;
    try { d = await api('GET', base); } catch (e) { fail(e); return; }
    if (state.detailId !== id) return;
    fillDL($('#detail-fields'), d, detailKeys);
    if (has('content')) {
      const box = $('#detail-recordings');
      for (const rec of d.recordings || []) {
        const src = base + '/recording?recording_id=' + encodeURIComponent(rec.recording_id);
        const part = el('div', { cls: 'recording' }, el('h2', { text: t('recording') + ' ' + rec.recording_id }));
        if (rec.available) {
          part.append(el('audio', { controls: '', preload: 'metadata', src, cls: 'rec-audio', 'data-recording': rec.recording_id }));
          const bar = el('div', { cls: 'toolbar' },
            el('a', { href: src + '&download=true', download: '', cls: 'button secondary', i18n: 'downloadMp3' }));
          if (has('content-delete')) {
            bar.append(el('button', { type: 'button', cls: 'danger delete-recording', i18n: 'deleteRecording',
              on: { click: () => deleteOne(id, 'recording') } }));
          }
          part.append(bar);
        } else {
          part.append(el('p', { i18n: 'recGone' }));
        }
        box.append(part);
      }
      if (d.has_chatlog) {
        try {
          const log = await api('GET', base + '/chatlog?format=json');
          if (state.detailId !== id) return;
          renderChat(log);
          $('#chat-xml').setAttribute('href', base + '/chatlog?format=xml');
          $('#detail-chat').hidden = false;
        } catch (e) { if (e.status !== 404) fail(e); }
      }
    }
  }
  function renderChat(log) {
    const ol = $('#chatlog');
    clear(ol);
    for (const m of log.messages || []) {
      ol.append(el('li', { cls: 'msg from-' + m.from },
        el('span', { cls: 'when', text: fmtTime(m.at) }),
        el('strong', { cls: 'who', text: (m.name || m.from) }),
        el('p', { cls: 'text', text: m.text })));
    }
  }
  async function copyChat() {
    const id = state.detailId;
    let text;
    try { text = await api('GET', '/api/v1/inquiries/' + encodeURIComponent(id) + '/chatlog?format=text'); } catch (e) { fail(e); return; }
    try {
      await navigator.clipboard.writeText(text);
      showMsg(t('copied'));
    } catch (e) {
      showMsg(t('copyFailed'), 'error');
      const ta = el('textarea', { rows: '8', readonly: '', cls: 'copy-fallback' });
      ta.value = text;
      $('#detail-chat').append(ta);
      ta.select();
    }
  }
  async function deleteOne(id, what) {
    if (!window.confirm(t('confirmDeleteOne', { what: whatText(what) }))) return;
    try {
      await deleteContent([id], what);
      const msg = $('#msg').textContent;
      await loadDetail(id);
      showMsg(msg);
    } catch (e) { fail(e); }
  }

  // --- anonymise --------------------------------------------------------
  const receiptKeys = ['receipt_id', 'tenant', 'dry_run', 'delete_content', 'inquiries', 'rows_anonymised',
    'content_deleted', 'files_rewritten', 'files_added', 'started', 'duration', 'request_id', 'person_ref'];
  function lines(sel) { return $(sel).value.split('\n').map((s) => s.trim()).filter(Boolean); }
  async function anonymise(ev) {
    ev.preventDefault();
    const numbers = lines('#anon-numbers'), emails = lines('#anon-emails');
    const n = numbers.length + emails.length;
    if (!n) { showMsg(t('anonNeedsInput'), 'error'); return; }
    const dry = $('#anon-dry').checked;
    if (!dry && !window.confirm(t('confirmAnon', { n }))) return;
    try {
      const r = await api('POST', '/api/v1/anonymise', { numbers, emails, delete_content: $('#anon-delete').checked, dry_run: dry });
      fillDL($('#receipt-fields'), r, receiptKeys);
      $('#receipt-json').textContent = JSON.stringify(r, null, 2);
      $('#receipt').hidden = false;
      showMsg('');
    } catch (e) { fail(e); }
  }

  // --- audit ------------------------------------------------------------
  async function loadAudit(ev) {
    if (ev) ev.preventDefault();
    const p = new URLSearchParams();
    const inq = $('#a-inquiry').value.trim(), actor = $('#a-actor').value.trim();
    const from = $('#a-from').value, to = $('#a-to').value;
    if (inq) p.set('inquiry', inq);
    if (actor) p.set('actor', actor);
    if (from) p.set('from', from);
    if (to) p.set('to', addDay(to));
    const tb = $('#audit-table tbody');
    try {
      const res = await api('GET', '/api/v1/audit' + (p.toString() ? '?' + p.toString() : ''));
      clear(tb);
      const rows = res.entries.slice().sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
      if (!rows.length) tb.append(el('tr', null, el('td', { colspan: '6', cls: 'empty', i18n: 'noEntries' })));
      for (const r of rows) {
        tb.append(el('tr', { cls: 'audit-row' },
          el('td', { text: fmtTime(r.time) }), el('td', { text: r.actor }), el('td', { text: r.actor_kind }),
          el('td', { text: r.action, cls: 'audit-action' }), el('td', { text: r.inquiry_id }),
          el('td', { text: r.request_id })));
      }
    } catch (e) { fail(e); }
  }

  // --- start ------------------------------------------------------------
  async function start() {
    initLang();
    applyLang();
    $('#signin-form').addEventListener('submit', signIn);
    $('#signout-btn').addEventListener('click', signOut);
    $('#lang-btn').addEventListener('click', () => {
      state.lang = state.lang === 'sv' ? 'en' : 'sv';
      try { localStorage.setItem('arkiv.lang', state.lang); } catch (e) { /* storage off */ }
      applyLang();
    });
    $('#search-form').addEventListener('submit', runSearch);
    $('#select-all').addEventListener('change', selectAll);
    $('#prev-btn').addEventListener('click', () => { if (state.page > 0) { state.page--; loadPage(); } });
    $('#next-btn').addEventListener('click', () => {
      if (!state.next) return;
      state.cursors[state.page + 1] = state.next;
      state.page++;
      loadPage();
    });
    $('#xlsx-btn').addEventListener('click', downloadXlsx);
    $('#zip-btn').addEventListener('click', downloadZip);
    $('#bulk-delete-btn').addEventListener('click', bulkDelete);
    $('#chat-copy').addEventListener('click', copyChat);
    $('#delete-chatlog-btn').addEventListener('click', () => deleteOne(state.detailId, 'chatlog'));
    $('#anon-form').addEventListener('submit', anonymise);
    $('#audit-form').addEventListener('submit', loadAudit);
    window.addEventListener('hashchange', () => { showMsg(''); route(); });
    try { state.session = await api('GET', '/session'); } catch (e) { state.session = null; }
    route();
    document.body.dataset.ready = '1';
  }
  document.addEventListener('DOMContentLoaded', start);
})();
