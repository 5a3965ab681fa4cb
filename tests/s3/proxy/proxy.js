#!/usr/bin/env node
// sluice's S3 test proxy: sits between the client under test and s3rver, and covers what
// s3rver does not check.
//
//   * verifies the SigV4 signature of every request (Authorization header or presigned
//     query) against the test secret, and the x-amz-content-sha256 of every body; a bad
//     signature is answered 403 SignatureDoesNotMatch, an expired URL 403 AccessDenied
//   * records each multipart upload's lifecycle (every UploadId created must end in
//     Complete or Abort) and answers AbortMultipartUpload itself (s3rver answers 405)
//   * checks part numbering and sizes at Complete (all but the last >= min_part_size)
//   * injects faults on command
//
// Admin API (unsigned, under /__admin/):
//   GET  /__admin/uploads          {"uploads":[{upload_id,bucket,key,state,parts:[{number,size}],
//                                               part_sends:[n,...]}],
//                                    "open":n}
//   GET  /__admin/stats            {"requests":n,"auth_failures":[...],"violations":[...],
//                                    "faults_injected":n,"ops":{"UploadPart":n,...}}
//   GET  /__admin/uploads?key_prefix=P   the same, only uploads of keys starting with P
//   POST /__admin/faults           JSON; one fault kind per command, added to the pending ones:
//        {"status":503,"count":N}    answer the next N matching requests with 503 SlowDown
//                                    (500: InternalError, 429: SlowDown, 400: RequestTimeout)
//        {"drop_mid_part":N}         cut the connection halfway through the next N part bodies
//        {"drop_mid_get":N,"after_bytes":B}  cut the next N object GETs after B body bytes
//        {"stall_ms":T,"count":N}    hold the next N matching requests T ms before answering
//      plus optional filters: "match":"UploadPart" (an operation name, or "any") and
//      "key_prefix":"..." (only objects whose key starts with it, so that tests running in
//      parallel against one proxy do not hit each other's faults)
//   POST /__admin/config           {"min_part_size":bytes}
//   POST /__admin/config           {"ragged_parts_key_prefix":P}: uploads of keys starting
//                                    with P may have parts of any size >= min_part_size (the
//                                    record-aligned parts of a resumable export), not sizes
//                                    that never shrink
//   POST /__admin/faults {"clear":true}  drop every pending fault (uploads and stats stay);
//        with "key_prefix":P only the faults whose key_prefix starts with P
//   POST /__admin/backdate         {"upload_id":ID,"seconds":N}: the upload was created N s
//                                    earlier (for the reaper's age tests)
//   (ListMultipartUploads, GET /bucket?uploads&prefix=P[&max-uploads&key-marker&
//   upload-id-marker], and ListParts, GET /bucket/key?uploadId=ID[&max-parts&
//   part-number-marker], are answered by the proxy from its lifecycle records, paginated as
//   S3 does: s3rver implements neither)
//   POST /__admin/reset            forget uploads, stats and pending faults
//
// Usage: node proxy.js --port P --upstream-port U [--secret S] [--key-id K]
//                      [--port-file F]     (P = 0: any free port, written to F)
// Secrets are never logged.
'use strict';

const http = require('http');
const crypto = require('crypto');

function arg(name, fallback) {
    const i = process.argv.indexOf('--' + name);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const PORT = Number(arg('port', '0'));
const UPSTREAM_PORT = Number(arg('upstream-port', '4568'));
const UPSTREAM_HOST = arg('upstream-host', '127.0.0.1');
const SECRET = arg('secret', process.env.SLUICE_PROXY_SECRET || 'S3RVER');
const KEY_ID = arg('key-id', process.env.SLUICE_PROXY_KEY_ID || 'S3RVER');
const PORT_FILE = arg('port-file', '');
const MAX_SKEW_MS = 15 * 60 * 1000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// --- state ----------------------------------------------------------------------------------
let state;
function reset() {
    state = {
        uploads: new Map(), // upload id -> {upload_id,bucket,key,state,parts:Map}
        requests: 0,
        auth_failures: [],
        violations: [],
        faults_injected: 0,
        ops: {},
        faults: [], // {kind: status|stall|drop_part|drop_get, count, match, key_prefix, ...}
        min_part_size: 5 * 1024 * 1024,
        ragged_parts_key_prefix: null,
    };
}
reset();

// --- SigV4 ----------------------------------------------------------------------------------
// AWS URI encoding: unreserved characters kept, everything else %XX (uppercase).
function awsEncode(s, keepSlash) {
    let out = '';
    for (const b of Buffer.from(s, 'utf8')) {
        const c = String.fromCharCode(b);
        if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
        else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
    return out;
}
function decode(s) {
    try {
        return decodeURIComponent(s);
    } catch (e) {
        return s;
    }
}
function parseQuery(raw) {
    const out = [];
    if (!raw) return out;
    for (const part of raw.split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        const k = eq < 0 ? part : part.slice(0, eq);
        const v = eq < 0 ? '' : part.slice(eq + 1);
        out.push([decode(k), decode(v)]);
    }
    return out;
}
function canonicalQuery(pairs) {
    return pairs
        .map(([k, v]) => [awsEncode(k), awsEncode(v)])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
        .map(([k, v]) => k + '=' + v)
        .join('&');
}
// The canonical URI: each segment decoded once and re-encoded by AWS's rules, so a client
// that double-encodes (or fails to encode) a key is caught.
function canonicalPath(rawPath) {
    return rawPath.split('/').map((seg) => awsEncode(decode(seg))).join('/');
}
function hmac(key, s) {
    return crypto.createHmac('sha256', key).update(s, 'utf8').digest();
}
function sha256hex(b) {
    return crypto.createHash('sha256').update(b).digest('hex');
}
function signature(method, path, query, headers, signedNames, payloadHash, date, scope) {
    const canonHeaders = signedNames
        .map((n) => {
            const v = headers[n];
            const val = Array.isArray(v) ? v.join(',') : v === undefined ? '' : String(v);
            return n + ':' + val.trim().replace(/\s+/g, ' ') + '\n';
        })
        .join('');
    const creq = [method, canonicalPath(path), canonicalQuery(query), canonHeaders,
        signedNames.join(';'), payloadHash].join('\n');
    const [day, region, service] = scope.split('/');
    const sts = ['AWS4-HMAC-SHA256', date, scope, sha256hex(creq)].join('\n');
    let k = hmac('AWS4' + SECRET, day);
    k = hmac(k, region);
    k = hmac(k, service);
    k = hmac(k, 'aws4_request');
    return crypto.createHmac('sha256', k).update(sts, 'utf8').digest('hex');
}
function parseAmzDate(d) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d || '');
    if (!m) return NaN;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}
function safeEqual(a, b) {
    const x = Buffer.from(String(a));
    const y = Buffer.from(String(b));
    return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Returns null when the request is authentic, else [status, code, message].
function verify(req, path, query, body) {
    const auth = req.headers['authorization'];
    const q = new Map(query);
    if (auth) {
        const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
        if (!m) return [400, 'AuthorizationHeaderMalformed', 'malformed Authorization header'];
        const [keyId, ...scopeParts] = m[1].split('/');
        if (keyId !== KEY_ID) return [403, 'InvalidAccessKeyId', 'unknown access key id'];
        const date = req.headers['x-amz-date'];
        const t = parseAmzDate(date);
        if (isNaN(t) || Math.abs(Date.now() - t) > MAX_SKEW_MS)
            return [403, 'RequestTimeTooSkewed', 'x-amz-date missing or too far from now'];
        const scope = scopeParts.join('/');
        if (!scope.startsWith(date.slice(0, 8) + '/')) return [403, 'SignatureDoesNotMatch', 'scope date mismatch'];
        const payload = req.headers['x-amz-content-sha256'];
        if (!payload) return [400, 'InvalidRequest', 'missing x-amz-content-sha256'];
        if (payload.startsWith('STREAMING-'))
            return [400, 'NotImplemented', 'aws-chunked bodies are not accepted by this test stack'];
        if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256hex(body))
            return [400, 'XAmzContentSHA256Mismatch', 'body does not match x-amz-content-sha256'];
        const names = m[2].split(';');
        if (!names.includes('host')) return [403, 'SignatureDoesNotMatch', 'host is not signed'];
        const expect = signature(req.method, path, query, req.headers, names, payload, date, scope);
        if (!safeEqual(expect, m[3])) return [403, 'SignatureDoesNotMatch', 'signature mismatch'];
        return null;
    }
    if (q.has('X-Amz-Signature')) {
        if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return [400, 'AuthorizationQueryParametersError', 'bad algorithm'];
        const [keyId, ...scopeParts] = (q.get('X-Amz-Credential') || '').split('/');
        if (keyId !== KEY_ID) return [403, 'InvalidAccessKeyId', 'unknown access key id'];
        const date = q.get('X-Amz-Date');
        const t = parseAmzDate(date);
        const expires = Number(q.get('X-Amz-Expires'));
        if (isNaN(t) || !(expires >= 1 && expires <= 604800))
            return [400, 'AuthorizationQueryParametersError', 'bad X-Amz-Date or X-Amz-Expires'];
        if (Date.now() > t + expires * 1000) return [403, 'AccessDenied', 'Request has expired'];
        if (t - Date.now() > MAX_SKEW_MS) return [403, 'RequestTimeTooSkewed', 'X-Amz-Date in the future'];
        const names = (q.get('X-Amz-SignedHeaders') || '').split(';');
        const rest = query.filter(([k]) => k !== 'X-Amz-Signature');
        const expect = signature(req.method, path, rest, req.headers, names, 'UNSIGNED-PAYLOAD', date,
            scopeParts.join('/'));
        if (!safeEqual(expect, q.get('X-Amz-Signature'))) return [403, 'SignatureDoesNotMatch', 'signature mismatch'];
        return null;
    }
    return [403, 'AccessDenied', 'anonymous requests are not allowed'];
}

// --- helpers --------------------------------------------------------------------------------
function xmlError(res, status, code, message) {
    if (res.headersSent || res.destroyed) {
        // Too late for an error document (an upstream failure after the answer began, or
        // a client already gone): cut the connection, which the client sees as a failure.
        console.error(`proxy: ${code} after the response started: ${message}`);
        if (res.socket) res.socket.destroy();
        return;
    }
    const rid = crypto.randomBytes(8).toString('hex').toUpperCase();
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
        `<Message>${message}</Message><RequestId>${rid}</RequestId></Error>`;
    res.writeHead(status, { 'Content-Type': 'application/xml', 'x-amz-request-id': rid,
        'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}
function json(res, obj) {
    const body = JSON.stringify(obj);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}
function classify(method, q) {
    if (method === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
    if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
    if (method === 'PUT' && q.has('uploadId') && q.has('partNumber')) return 'UploadPart';
    if (method === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
    if (method === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
    if (method === 'GET' && q.has('uploadId')) return 'ListParts';
    if (method === 'PUT') return 'PutObject';
    if (method === 'GET') return 'GetObject';
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'DELETE') return 'DeleteObject';
    return method;
}
function splitBucketKey(path) {
    const parts = path.split('/');
    return [decode(parts[1] || ''), decode(parts.slice(2).join('/'))];
}
// Takes one pending fault of `kind` matching `op` and `key`, if any.
function takeFault(kind, op, key) {
    for (const f of state.faults) {
        if (f.kind === kind && f.count > 0 && (!f.match || f.match === 'any' || f.match === op) &&
            (!f.key_prefix || key.startsWith(f.key_prefix))) {
            f.count--;
            state.faults_injected++;
            return f;
        }
    }
    return null;
}
function uploadsView(prefix) {
    const uploads = [...state.uploads.values()].filter((u) => !prefix || u.key.startsWith(prefix)).map((u) => ({
        upload_id: u.upload_id, bucket: u.bucket, key: u.key, state: u.state,
        parts: [...u.parts.entries()].sort((a, b) => a[0] - b[0]).map(([n, p]) => ({ number: n, size: p.size })),
        completed_parts: u.completed_parts,
        part_sends: u.part_sends, // every UploadPart request's part number, in arrival order
    }));
    return { uploads, open: uploads.filter((u) => u.state === 'open').length };
}

// --- admin ----------------------------------------------------------------------------------
function admin(req, res, path, body) {
    let cmd = {};
    if (body.length) {
        try {
            cmd = JSON.parse(body.toString('utf8'));
        } catch (e) {
            return xmlError(res, 400, 'BadJSON', 'admin commands are JSON');
        }
    }
    if (req.method === 'GET' && path === '/__admin/uploads') {
        const m = /key_prefix=([^&]*)/.exec(req.url);
        return json(res, uploadsView(m ? decode(m[1]) : ''));
    }
    if (req.method === 'GET' && path === '/__admin/stats')
        return json(res, { requests: state.requests, auth_failures: state.auth_failures,
            violations: state.violations, faults_injected: state.faults_injected, ops: state.ops });
    if (req.method === 'POST' && path === '/__admin/reset') {
        const min = state.min_part_size, ragged = state.ragged_parts_key_prefix;
        reset();
        state.min_part_size = min;
        state.ragged_parts_key_prefix = ragged;
        return json(res, { ok: true });
    }
    if (req.method === 'POST' && path === '/__admin/config') {
        if (cmd.min_part_size !== undefined) state.min_part_size = Number(cmd.min_part_size);
        if (cmd.ragged_parts_key_prefix !== undefined) state.ragged_parts_key_prefix = String(cmd.ragged_parts_key_prefix);
        return json(res, { ok: true, min_part_size: state.min_part_size });
    }
    if (req.method === 'POST' && path === '/__admin/backdate') {
        const u = state.uploads.get(cmd.upload_id);
        if (!u) return xmlError(res, 404, 'NoSuchUpload', 'no such upload');
        u.initiated -= Number(cmd.seconds || 0) * 1000;
        return json(res, { ok: true });
    }
    if (req.method === 'POST' && path === '/__admin/faults') {
        // {"clear":true}: drop the pending faults - with "key_prefix", only those whose own
        // prefix starts with it (tests running in parallel against one proxy must not drop
        // each other's faults: cli_resume's clear once took a cli_s3 retry fault).
        if (cmd.clear) {
            const p = cmd.key_prefix || '';
            state.faults = p ? state.faults.filter((f) => !(f.key_prefix || '').startsWith(p)) : [];
        }
        const base = { match: cmd.match, key_prefix: cmd.key_prefix || '' };
        const count = Number(cmd.count || 1);
        if (cmd.status) state.faults.push({ ...base, kind: 'status', status: Number(cmd.status), count });
        if (cmd.drop_mid_part) state.faults.push({ ...base, kind: 'drop_part', count: Number(cmd.drop_mid_part) });
        if (cmd.drop_mid_get)
            state.faults.push({ ...base, kind: 'drop_get', count: Number(cmd.drop_mid_get),
                after_bytes: Number(cmd.after_bytes || 1024) });
        if (cmd.stall_ms) state.faults.push({ ...base, kind: 'stall', ms: Number(cmd.stall_ms), count });
        return json(res, { ok: true });
    }
    return xmlError(res, 404, 'NoSuchAdminCommand', 'unknown admin command');
}

// --- listings answered by the proxy -----------------------------------------------------------
function xmlText(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
function sendXml(res, body) {
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}
// ListMultipartUploads: open uploads of the bucket under the prefix, ordered by key then
// creation, max-uploads (default 1000) per page, continued after key-marker/upload-id-marker.
function listUploads(res, bucket, q) {
    const prefix = q.get('prefix') || '';
    const max = Math.max(1, Math.min(1000, Number(q.get('max-uploads') || 1000)));
    const km = q.get('key-marker') || '', im = q.get('upload-id-marker') || '';
    const all = [...state.uploads.values()]
        .filter((u) => u.bucket === bucket && u.state === 'open' && u.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated - b.initiated));
    let start = 0;
    if (km) {
        const at = all.findIndex((u) => u.key === km && u.upload_id === im);
        start = at >= 0 ? at + 1 : all.findIndex((u) => u.key > km);
        if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + max);
    const truncated = start + max < all.length;
    const items = page.map((u) => `<Upload><Key>${xmlText(u.key)}</Key><UploadId>${u.upload_id}</UploadId>` +
        `<Initiated>${new Date(u.initiated).toISOString()}</Initiated></Upload>`).join('');
    const last = page[page.length - 1];
    const next = truncated ? `<NextKeyMarker>${xmlText(last.key)}</NextKeyMarker>` +
        `<NextUploadIdMarker>${last.upload_id}</NextUploadIdMarker>` : '';
    sendXml(res, '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>' +
        `<Bucket>${bucket}</Bucket><Prefix>${xmlText(prefix)}</Prefix><MaxUploads>${max}</MaxUploads>` +
        `<IsTruncated>${truncated}</IsTruncated>${next}${items}</ListMultipartUploadsResult>`);
}
// ListParts: the parts stored so far, by number, max-parts (default 1000) per page after
// part-number-marker.
function listParts(res, bucket, upload, q) {
    const max = Math.max(1, Math.min(1000, Number(q.get('max-parts') || 1000)));
    const marker = Number(q.get('part-number-marker') || 0);
    const all = [...upload.parts.entries()].sort((a, b) => a[0] - b[0]).filter(([n]) => n > marker);
    const page = all.slice(0, max);
    const truncated = all.length > max;
    const items = page.map(([n, p]) => `<Part><PartNumber>${n}</PartNumber><ETag>${xmlText(p.etag)}</ETag>` +
        `<Size>${p.size}</Size></Part>`).join('');
    const next = truncated ? `<NextPartNumberMarker>${page[page.length - 1][0]}</NextPartNumberMarker>` : '';
    sendXml(res, '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult>' +
        `<Bucket>${bucket}</Bucket><Key>${xmlText(upload.key)}</Key><UploadId>${upload.upload_id}</UploadId>` +
        `<PartNumberMarker>${marker}</PartNumberMarker><MaxParts>${max}</MaxParts>` +
        `<IsTruncated>${truncated}</IsTruncated>${next}${items}</ListPartsResult>`);
}

// --- S3 requests ----------------------------------------------------------------------------
function forward(req, res, body, op, onAnswer, key) {
    const headers = Object.assign({}, req.headers);
    headers['content-length'] = String(body.length);
    delete headers['transfer-encoding'];
    const up = http.request({ host: UPSTREAM_HOST, port: UPSTREAM_PORT, method: req.method,
        path: req.url, headers, agent }, (ures) => {
        const chunks = [];
        ures.on('data', (c) => chunks.push(c));
        ures.on('end', () => {
            const ubody = Buffer.concat(chunks);
            if (onAnswer) {
                const replaced = onAnswer(ures, ubody);
                if (replaced) return;
            }
            const h = Object.assign({}, ures.headers);
            if (req.method !== 'HEAD') {
                delete h['transfer-encoding'];
                h['content-length'] = String(ubody.length);
            }
            const drop = op === 'GetObject' && ures.statusCode < 300 ? takeFault('drop_get', op, key || '') : null;
            if (drop && ubody.length > drop.after_bytes) {
                // Announce the whole body, send part of it, then cut the connection.
                res.writeHead(ures.statusCode, h);
                res.write(ubody.subarray(0, drop.after_bytes), () => {
                    setTimeout(() => req.socket.destroy(), 20);
                });
                return;
            }
            res.writeHead(ures.statusCode, h);
            res.end(req.method === 'HEAD' ? undefined : ubody);
        });
    });
    up.on('error', (e) => xmlError(res, 502, 'BadGateway', 'upstream: ' + e.message));
    up.end(body);
}

function handle(req, res, body) {
    const qpos = req.url.indexOf('?');
    const path = qpos < 0 ? req.url : req.url.slice(0, qpos);
    const query = parseQuery(qpos < 0 ? '' : req.url.slice(qpos + 1));
    if (path.startsWith('/__admin/')) return admin(req, res, path, body);
    state.requests++;
    const q = new Map(query);
    const op = classify(req.method, q);
    state.ops[op] = (state.ops[op] || 0) + 1;

    const bad = verify(req, path, query, body);
    if (bad) {
        state.auth_failures.push({ op, path, code: bad[1], reason: bad[2] });
        return xmlError(res, bad[0], bad[1], bad[2]);
    }
    const [bucket, key] = splitBucketKey(path);
    const sf = takeFault('status', op, key);
    if (sf) {
        const code = sf.status === 500 ? 'InternalError' : sf.status === 503 || sf.status === 429 ? 'SlowDown'
            : sf.status === 400 ? 'RequestTimeout' : 'InjectedFault';
        return xmlError(res, sf.status, code, 'injected fault');
    }
    const uploadId = q.get('uploadId');
    const upload = uploadId ? state.uploads.get(uploadId) : undefined;

    if (op === 'ListMultipartUploads') return listUploads(res, bucket, q);
    if (op === 'ListParts') {
        if (!upload || upload.state !== 'open' || upload.key !== key)
            return xmlError(res, 404, 'NoSuchUpload', 'no such upload');
        return listParts(res, bucket, upload, q);
    }
    if (op === 'AbortMultipartUpload') {
        if (!upload || upload.state !== 'open') return xmlError(res, 404, 'NoSuchUpload', 'no such upload');
        upload.state = 'aborted';
        res.writeHead(204, { 'x-amz-request-id': 'PROXYABORT' });
        return res.end();
    }
    if (op === 'UploadPart') {
        if (!upload || upload.state !== 'open') return xmlError(res, 404, 'NoSuchUpload', 'no such upload');
        const n = Number(q.get('partNumber'));
        if (!(n >= 1 && n <= 10000)) return xmlError(res, 400, 'InvalidArgument', 'part number out of range');
        upload.part_sends.push(n);
        return forward(req, res, body, op, (ures) => {
            if (ures.statusCode === 200) upload.parts.set(n, { size: body.length, etag: ures.headers['etag'] });
        });
    }
    if (op === 'CompleteMultipartUpload') {
        if (!upload || upload.state !== 'open') return xmlError(res, 404, 'NoSuchUpload', 'no such upload');
        const listed = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>/g)]
            .map((m) => [Number(m[1]), m[2].replace(/&quot;/g, '"')]);
        const problems = [];
        listed.forEach(([n, etag], i) => {
            if (n !== i + 1) problems.push(`part ${i + 1} listed as number ${n}`);
            const p = upload.parts.get(n);
            if (!p) problems.push(`part ${n} was never uploaded`);
            else {
                if (p.etag !== etag) problems.push(`part ${n}: ETag mismatch`);
                if (i + 1 < listed.length && p.size < state.min_part_size)
                    problems.push(`part ${n}: ${p.size} bytes is below the minimum ${state.min_part_size}`);
            }
        });
        if (listed.length === 0) problems.push('no parts listed');
        // Every part but the last must be exactly the part size current at its number:
        // sizes never shrink before the last part.
        const ragged = state.ragged_parts_key_prefix !== null && key.startsWith(state.ragged_parts_key_prefix);
        for (let i = 1; !ragged && i + 1 < listed.length; i++) {
            const a = upload.parts.get(listed[i - 1][0]), b = upload.parts.get(listed[i][0]);
            if (a && b && b.size < a.size) problems.push(`part ${listed[i][0]} is smaller than part ${listed[i - 1][0]}`);
        }
        if (problems.length) {
            state.violations.push({ upload_id: uploadId, key, problems });
            return xmlError(res, 400, 'InvalidPart', problems.join('; '));
        }
        return forward(req, res, body, op, (ures, ubody) => {
            if (ures.statusCode === 200 && !ubody.toString('utf8').includes('<Error>')) {
                upload.state = 'completed';
                upload.completed_parts = listed.length;
            }
        });
    }
    if (op === 'CreateMultipartUpload') {
        return forward(req, res, body, op, (ures, ubody) => {
            const m = /<UploadId>([^<]+)<\/UploadId>/.exec(ubody.toString('utf8'));
            if (ures.statusCode === 200 && m)
                state.uploads.set(m[1], { upload_id: m[1], bucket, key, state: 'open', parts: new Map(), completed_parts: 0,
                    initiated: Date.now(), part_sends: [] });
        });
    }
    return forward(req, res, body, op, null, key);
}

const server = http.createServer((req, res) => {
    const chunks = [];
    let received = 0;
    const expected = Number(req.headers['content-length'] || 0);
    const q = req.url.indexOf('?') >= 0 ? new Map(parseQuery(req.url.slice(req.url.indexOf('?') + 1))) : new Map();
    const isPart = req.method === 'PUT' && q.has('partNumber') && q.has('uploadId');
    const path0 = req.url.split('?')[0];
    const key0 = splitBucketKey(path0)[1];
    const dropping = isPart && expected > 1 && !path0.startsWith('/__admin/') &&
        takeFault('drop_part', 'UploadPart', key0) !== null;
    req.on('data', (c) => {
        received += c.length;
        if (dropping) {
            if (received >= expected / 2) req.socket.destroy();
            return;
        }
        chunks.push(c);
    });
    req.on('end', () => {
        if (dropping) return req.socket.destroy();
        const body = Buffer.concat(chunks);
        const q2 = new Map(parseQuery(req.url.indexOf('?') >= 0 ? req.url.slice(req.url.indexOf('?') + 1) : ''));
        const op = classify(req.method, q2);
        const stall = path0.startsWith('/__admin/') ? null : takeFault('stall', op, key0);
        if (stall) setTimeout(() => { if (!req.socket.destroyed) handle(req, res, body); }, stall.ms);
        else handle(req, res, body);
    });
    req.on('error', () => {});
});
server.keepAliveTimeout = 30000;
server.listen(PORT, '127.0.0.1', () => {
    const port = server.address().port;
    if (PORT_FILE) require('fs').writeFileSync(PORT_FILE, String(port));
    console.log(`sluice s3 proxy on 127.0.0.1:${port} -> ${UPSTREAM_HOST}:${UPSTREAM_PORT}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// A bug in one request's handling must not take the endpoint away from every test after it
// (each would then fail with "connection refused", hiding the first cause): log it loudly,
// count it in /__admin/stats, and keep serving.
process.on('uncaughtException', (e) => {
    state.violations.push({ upload_id: null, key: null,
        problems: ['proxy error: ' + (e && e.stack ? e.stack : String(e))] });
    console.error('proxy: uncaught exception:', e && e.stack ? e.stack : e);
});
