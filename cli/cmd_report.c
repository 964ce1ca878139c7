/* cmd_report.c: `smtptrace report`: one self-contained HTML page of charts, tables and transcripts from the database. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/db_column.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/ladder.h"
#include "cli/show.h"
#include "dissect/netmon.h"
#include "dissect/smtp_parser.h"
#include "store/query.h"

#define DEFAULT_DB "smtptrace.db"
#define MAX_BUCKETS 60          /* bars of the sessions-over-time chart, at most */
#define MAX_TRANSCRIPTS 300     /* sessions with findings embedded with their transcript; the rest are listed */
#define MAX_EVENTS_SHOWN 5000   /* events of one embedded transcript; the rest is left to `smtptrace show` */
#define MAX_FRAMES 64

struct report {
    sqlite3 *db;
    const char *path;
    FILE *out;
    int failed; /* a database error was reported */
};

/* The state of one embedded transcript, rebuilt from the events as `smtptrace show` does. */
static void report_usage(FILE *out)
{
    fputs("usage: smtptrace report [-d DB] -o FILE.html   (default database ./" DEFAULT_DB "; -o - for stdout)\n"
          "One self-contained HTML page: sessions over time, reply codes, findings by kind and by server,\n"
          "the EHLO capabilities of each server, and the transcript and ladder of each session with findings.\n",
          out);
}

static int db_error(struct report *r)
{
    if (!r->failed)
        fprintf(stderr, "smtptrace report: %s: %s\n", r->path, sqlite3_errmsg(r->db));
    r->failed = 1;
    return -1;
}

static int prepare(struct report *r, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *stmt = NULL;
        return db_error(r);
    }
    return 0;
}

/* Ends a statement's loop: 0 when it ran to SQLITE_DONE, else reports the error. Finalizes. */
static int finish(struct report *r, sqlite3_stmt *stmt, int rc)
{
    if (rc != SQLITE_DONE) {
        db_error(r);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

/* ---- escaping ---- */

/* HTML text: & < > " ' as entities, valid UTF-8 as is, control bytes and bytes that are not UTF-8 as \xHH. */
static void html_n(FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        switch (c) {
        case '&':
            fputs("&amp;", out);
            i++;
            continue;
        case '<':
            fputs("&lt;", out);
            i++;
            continue;
        case '>':
            fputs("&gt;", out);
            i++;
            continue;
        case '"':
            fputs("&quot;", out);
            i++;
            continue;
        case '\'':
            fputs("&#39;", out);
            i++;
            continue;
        case '\n':
            fputc('\n', out);
            i++;
            continue;
        default:
            break;
        }
        n = c < 0x20 || c == 0x7f ? 0 : query_utf8_len(p + i, len - i);
        if (n == 0) {
            fprintf(out, "\\x%02X", c);
            i++;
        } else {
            fwrite(p + i, 1, n, out);
            i += n;
        }
    }
}

static void html(FILE *out, const char *s)
{
    if (s)
        html_n(out, s, strlen(s));
}

/* A text column as HTML; dash when NULL or empty. */
static void html_col(FILE *out, sqlite3_stmt *stmt, int col)
{
    const char *p = (const char *)sqlite3_column_text(stmt, col);
    size_t n = (size_t)sqlite3_column_bytes(stmt, col);

    if (!p || n == 0)
        fputs("&ndash;", out);
    else
        html_n(out, p, n);
}

/* A JSON string safe inside <script>: query_json_escape's rules plus < > & as \u00XX. */
static void js_str(FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    fputc('"', out);
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
            continue;
        }
        n = c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&' ? 0 : query_utf8_len(p + i, len - i);
        if (n == 0) {
            fprintf(out, "\\u%04x", c);
            i++;
            continue;
        }
        fwrite(p + i, 1, n, out);
        i += n;
    }
    fputc('"', out);
}

static void js_col(FILE *out, sqlite3_stmt *stmt, int col)
{
    const char *p = (const char *)sqlite3_column_text(stmt, col);

    js_str(out, p ? p : "", p ? (size_t)sqlite3_column_bytes(stmt, col) : 0);
}

/* ---- the page ---- */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';"
    " script-src 'unsafe-inline'; img-src data:\">\n"
    "<title>smtptrace report</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;color:#1d2330;"
    "background:#f5f6f8;font-size:14px}\n"
    "header{background:#1f3a5f;color:#fff;padding:16px 28px}header h1{margin:0 0 4px;font-size:22px}\n"
    "header .meta{opacity:.85}nav{padding:8px 28px;background:#e3e8ef}nav a{margin-right:16px;color:#1f3a5f}\n"
    "main{padding:8px 28px 40px}section{background:#fff;border:1px solid #d8dde5;border-radius:6px;"
    "margin:16px 0;padding:12px 18px}\n"
    "h2{font-size:17px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}\n"
    ".cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:10px}.card{background:rgba(255,255,255,.12);"
    "border-radius:5px;padding:6px 12px}.card b{display:block;font-size:20px}\n"
    ".chart{width:100%;min-height:60px}.chart svg{display:block}.chart text{font-size:11px;fill:#445}\n"
    "table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e2e5ea;padding:3px 8px;"
    "text-align:left;vertical-align:top}th{background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".bar{display:inline-block;height:10px;background:#3b73b9;border-radius:2px;vertical-align:middle}\n"
    ".sev-error{color:#b3261e;font-weight:600}.sev-warning{color:#a15c00}.sev-info{color:#4a5568}\n"
    ".scroll{overflow-x:auto}.matrix td,.matrix th{text-align:center;padding:3px 5px}.matrix td.srv,"
    ".matrix th.srv{text-align:left;white-space:nowrap}\n"
    ".matrix th.kw{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500}\n"
    ".matrix td.yes{color:#1e7b34;font-weight:700}.matrix td.some{background:#ffe9b3;color:#8a5300;font-weight:700}\n"
    ".matrix tr.differ td.srv{background:#ffe9b3}.legend span{display:inline-block;margin-right:14px}\n"
    ".swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}\n"
    "details{border:1px solid #d8dde5;border-radius:5px;margin:6px 0;background:#fafbfc}details>summary{cursor:pointer;"
    "padding:5px 8px}details[open]>summary{border-bottom:1px solid #d8dde5}\n"
    "pre{margin:0;padding:8px 10px;overflow-x:auto;font:12px/1.35 'DejaVu Sans Mono',Consolas,monospace}\n"
    ".muted{color:#667}#errors{color:#b3261e;white-space:pre-wrap}#table-sessions td{white-space:nowrap}\n"
    "#table-sessions td:last-child{white-space:normal}h4{margin:8px 10px 2px;font-size:13px}\n"
    "</style>\n</head>\n";

/*
 * The charts, drawn from #report-data. After drawing: body data-ready="1", data-charts = the number of
 * charts with at least one bar, each .chart data-bars = its bars. Script errors go into #errors.
 */
static const char page_script[] =
    "<script>\n"
    "(function(){\n"
    "'use strict';\n"
    "var errs=document.getElementById('errors');\n"
    "function report(msg){errs.hidden=false;errs.textContent+=msg+'\\n';"
    "document.body.dataset.errors=String((+document.body.dataset.errors||0)+1);}\n"
    "window.onerror=function(m,src,line,col){report('error: '+m+' at '+line+':'+col);};\n"
    "window.addEventListener('unhandledrejection',function(e){report('rejection: '+e.reason);});\n"
    "var oldErr=console.error;console.error=function(){report('console.error: '+Array.prototype.join.call(arguments,' '));"
    "if(oldErr)oldErr.apply(console,arguments);};\n"
    "var NS='http://www.w3.org/2000/svg';\n"
    "function el(name,attrs,parent){var e=document.createElementNS(NS,name);for(var k in attrs)e.setAttribute(k,attrs[k]);"
    "if(parent)parent.appendChild(e);return e;}\n"
    "function niceStep(v){if(v<=1)return 1;var p=Math.pow(10,Math.floor(Math.log10(v)));var m=[1,2,5,10];"
    "for(var i=0;i<m.length;i++)if(m[i]*p>=v)return m[i]*p;return 10*p;}\n"
    /* series: [{name, values, color | colors}], drawn over each other (the later ones are subsets). */
    "function barChart(id,labels,series,opt){\n"
    " var box=document.getElementById(id);if(!box)throw new Error('no chart element '+id);\n"
    " opt=opt||{};var n=labels.length,max=0,longest=0;\n"
    " labels.forEach(function(l){if(l.length>longest)longest=l.length;});\n"
    " series.forEach(function(s){s.values.forEach(function(v){if(v>max)max=v;});});\n"
    " var rot=opt.rotate,W=Math.max(box.clientWidth||900,320),L=rot?Math.max(44,Math.min(170,longest*4.8)):44,R=10,T=10,"
    "B=rot?Math.min(150,Math.max(40,16+longest*4.6)):34,H=(opt.height||230)+(rot?B-34:0);\n"
    " var step0=niceStep(max/4),top=Math.max(1,Math.ceil(max/step0))*step0,ticks=Math.round(top/step0);\n"
    " var svg=el('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H,role:'img'},box);\n"
    " el('title',{},svg).textContent=opt.title||id;\n"
    " var pw=W-L-R,ph=H-T-B,step=n?pw/n:pw,bw=Math.max(1,Math.min(48,step*0.75)),bars=0;\n"
    " for(var g=0;g<=ticks;g++){var y=T+ph-ph*g/ticks;el('line',{x1:L,x2:W-R,y1:y,y2:y,stroke:g?'#e4e7ec':'#99a',"
    "'stroke-width':1},svg);var t=el('text',{x:L-6,y:y+4,'text-anchor':'end'},svg);t.textContent=String(g*step0);}\n"
    " var every=Math.max(1,Math.ceil(n/(opt.rotate?40:Math.max(1,Math.floor(pw/70)))));\n"
    " for(var i=0;i<n;i++){var x=L+step*i+(step-bw)/2;\n"
    "  series.forEach(function(s,si){var v=s.values[i]||0;if(v<=0)return;var h=Math.max(2,ph*v/top);\n"
    "   var r=el('rect',{x:x+(si?bw*0.2:0),y:T+ph-h,width:si?bw*0.6:bw,height:h,fill:s.colors?s.colors[i]:s.color,"
    "'class':'bar-rect','data-value':v},svg);\n"
    "   el('title',{},r).textContent=labels[i]+': '+v+' '+s.name;if(si===0)bars++;});\n"
    "  if(i%every===0){var lx=L+step*i+step/2,ly=T+ph+14;var tx=el('text',{x:lx,y:ly,'text-anchor':opt.rotate?'end':'middle'},svg);\n"
    "   if(opt.rotate)tx.setAttribute('transform','rotate(-40 '+lx+' '+ly+')');tx.textContent=labels[i];}}\n"
    " box.dataset.bars=String(bars);return bars;}\n"
    "function codeColor(c){return c>=500?'#c0392b':c>=400?'#e08e0b':c>=300?'#3b73b9':c>=200?'#2e8b57':'#888';}\n"
    "var sevColor={error:'#c0392b',warning:'#e08e0b',info:'#7b8794'};\n"
    "var D=JSON.parse(document.getElementById('report-data').textContent);\n"
    "var drawn=0;\n"
    "function count(b){if(b>0)drawn++;}\n"
    "count(barChart('chart-timeline',D.timeline.labels,[{name:'sessions',values:D.timeline.sessions,color:'#3b73b9'},"
    "{name:'with warnings or errors',values:D.timeline.flagged,color:'#c0392b'}],{title:'Sessions per '+D.timeline.bucket,"
    "rotate:D.timeline.labels.length>12}));\n"
    "count(barChart('chart-replies',D.replies.map(function(r){return String(r.code);}),[{name:'replies',"
    "values:D.replies.map(function(r){return r.count;}),colors:D.replies.map(function(r){return codeColor(r.code);})}],"
    "{title:'Replies by code'}));\n"
    "count(barChart('chart-findings',D.findings.map(function(f){return f.kind+(f.extension?'/'+f.extension:'');}),"
    "[{name:'findings',values:D.findings.map(function(f){return f.count;}),colors:D.findings.map(function(f){"
    "return sevColor[f.severity]||'#888';})}],{title:'Findings by kind',rotate:true}));\n"
    "count(barChart('chart-servers',D.servers.map(function(s){return s.server;}),[{name:'findings',"
    "values:D.servers.map(function(s){return s.findings;}),color:'#e08e0b'},{name:'errors',"
    "values:D.servers.map(function(s){return s.errors;}),color:'#c0392b'}],{title:'Findings by server',rotate:true}));\n"
    "function openHash(){var e=location.hash&&document.getElementById(location.hash.slice(1));"
    "if(e&&e.tagName==='DETAILS')e.open=true;}\n"
    "window.addEventListener('hashchange',openHash);openHash();\n"
    "document.body.dataset.charts=String(drawn);\n"
    "document.body.dataset.ready='1';\n"
    "})();\n"
    "</script>\n";

enum ts_format { TS_FULL, TS_HMS, TS_DAY_HM, TS_DATE };

static void format_ts(int64_t usec, char *buf, size_t len, enum ts_format fmt)
{
    time_t t = (time_t)(usec >= 0 ? usec / 1000000 : (usec - 999999) / 1000000);
    struct tm tm;
    size_t n = 0;

    if (gmtime_r(&t, &tm)) {
        switch (fmt) {
        case TS_FULL:
            n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
            break;
        case TS_HMS:
            n = strftime(buf, len, "%H:%M:%S", &tm);
            break;
        case TS_DAY_HM:
            n = strftime(buf, len, "%m-%d %H:%M", &tm);
            break;
        case TS_DATE:
            n = strftime(buf, len, "%Y-%m-%d", &tm);
            break;
        }
    }
    if (n == 0)
        snprintf(buf, len, "?");
}

static int64_t scalar_int(struct report *r, const char *sql, int *ok)
{
    sqlite3_stmt *stmt;
    int64_t v = 0;
    int rc;

    if (prepare(r, sql, &stmt) < 0) {
        *ok = 0;
        return 0;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        v = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }
    if (finish(r, stmt, rc) < 0)
        *ok = 0;
    return v;
}

static int write_header(struct report *r)
{
    static const char *const names[] = {"captures", "sessions", "messages", "findings", "servers"};
    static const char *const sqls[] = {
        "SELECT count(*) FROM captures", "SELECT count(*) FROM sessions", "SELECT count(*) FROM messages",
        "SELECT count(*) FROM findings", "SELECT count(DISTINCT server_addr) FROM sessions"};
    int64_t counts[5], first, last;
    char now[40], a[40], b[40];
    int ok = 1;
    size_t i;
    time_t t = time(NULL);
    struct tm tm;

    for (i = 0; i < 5; i++)
        counts[i] = scalar_int(r, sqls[i], &ok);
    first = scalar_int(r, "SELECT min(start_ts_usec) FROM sessions", &ok);
    last = scalar_int(r, "SELECT max(end_ts_usec) FROM sessions", &ok);
    if (!ok)
        return -1;
    if (!gmtime_r(&t, &tm) || strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(now, sizeof now, "?");
    fputs(page_head, r->out);
    fputs("<body>\n<header>\n<h1>smtptrace report</h1>\n<div class=\"meta\">database ", r->out);
    html(r->out, r->path);
    fprintf(r->out, ", generated %s by smtptrace %s", now, SMTPTRACE_VERSION);
    if (counts[1] > 0) {
        format_ts(first, a, sizeof a, TS_FULL);
        format_ts(last, b, sizeof b, TS_FULL);
        fprintf(r->out, "; sessions from %s to %s UTC", a, b);
    }
    fputs("</div>\n<div class=\"cards\">", r->out);
    for (i = 0; i < 5; i++)
        fprintf(r->out, "<div class=\"card\"><b>%lld</b>%s</div>", (long long)counts[i], names[i]);
    fputs("</div>\n</header>\n<nav><a href=\"#timeline\">Sessions over time</a><a href=\"#replies\">Reply codes</a>"
          "<a href=\"#findings\">Findings</a><a href=\"#capabilities\">Capabilities</a>"
          "<a href=\"#sessions\">Sessions with findings</a></nav>\n<main>\n",
          r->out);
    return 0;
}

/* ---- the data of the charts (one JSON object) ---- */

/* Bucket widths in seconds, the smallest that gives at most MAX_BUCKETS bars is used. */
static const struct {
    int64_t secs;
    const char *name;
} bucket_widths[] = {
    {1, "second"},     {5, "5 seconds"},   {10, "10 seconds"}, {30, "30 seconds"}, {60, "minute"},
    {300, "5 minutes"}, {600, "10 minutes"}, {1800, "30 minutes"}, {3600, "hour"}, {21600, "6 hours"},
    {86400, "day"},    {604800, "week"},   {2592000, "30 days"}, {31536000, "365 days"},
};

static int data_timeline(struct report *r)
{
    static const char sql[] =
        "SELECT (start_ts_usec - ?1) / ?2, count(*),"
        " sum(EXISTS (SELECT 1 FROM findings f WHERE f.session_id = s.id AND f.severity IN ('warning', 'error')))"
        " FROM sessions s WHERE start_ts_usec IS NOT NULL GROUP BY 1 ORDER BY 1";
    sqlite3_stmt *stmt;
    int64_t first, last, width_usec = 0, n = 1, k, *sessions, *flagged;
    size_t w, nw = sizeof bucket_widths / sizeof bucket_widths[0];
    enum ts_format label_fmt;
    const char *name = "second";
    int ok = 1, rc;
    char label[40];

    first = scalar_int(r, "SELECT min(start_ts_usec) FROM sessions", &ok);
    last = scalar_int(r, "SELECT max(start_ts_usec) FROM sessions", &ok);
    if (!ok)
        return -1;
    for (w = 0; w < nw; w++) {
        width_usec = bucket_widths[w].secs * 1000000;
        name = bucket_widths[w].name;
        /* Buckets aligned on the width, so the labels are round. */
        first -= first % width_usec;
        n = (last - first) / width_usec + 1;
        if (n <= MAX_BUCKETS)
            break;
    }
    if (n > MAX_BUCKETS || n < 1)
        n = n < 1 ? 1 : MAX_BUCKETS;
    sessions = calloc((size_t)n, sizeof *sessions);
    flagged = calloc((size_t)n, sizeof *flagged);
    if (!sessions || !flagged) {
        free(sessions);
        free(flagged);
        fprintf(stderr, "smtptrace report: out of memory\n");
        return -1;
    }
    if (prepare(r, sql, &stmt) < 0 || sqlite3_bind_int64(stmt, 1, first) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, width_usec) != SQLITE_OK) {
        if (stmt)
            db_error(r);
        sqlite3_finalize(stmt);
        free(sessions);
        free(flagged);
        return -1;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        k = sqlite3_column_int64(stmt, 0);
        if (k < 0)
            k = 0;
        if (k >= n)
            k = n - 1;
        sessions[k] += sqlite3_column_int64(stmt, 1);
        flagged[k] += sqlite3_column_int64(stmt, 2);
    }
    if (finish(r, stmt, rc) < 0) {
        free(sessions);
        free(flagged);
        return -1;
    }
    label_fmt = width_usec < 60 * INT64_C(1000000)      ? TS_HMS
                : width_usec < 86400 * INT64_C(1000000) ? TS_DAY_HM
                                                        : TS_DATE;
    fprintf(r->out, "\"timeline\":{\"bucket\":\"%s\",\"labels\":[", name);
    for (k = 0; k < n; k++) {
        format_ts(first + k * width_usec, label, sizeof label, label_fmt);
        fprintf(r->out, "%s\"%s\"", k ? "," : "", label);
    }
    fputs("],\"sessions\":[", r->out);
    for (k = 0; k < n; k++)
        fprintf(r->out, "%s%lld", k ? "," : "", (long long)sessions[k]);
    fputs("],\"flagged\":[", r->out);
    for (k = 0; k < n; k++)
        fprintf(r->out, "%s%lld", k ? "," : "", (long long)flagged[k]);
    fputs("]}", r->out);
    free(sessions);
    free(flagged);
    return 0;
}

static int data_replies(struct report *r)
{
    sqlite3_stmt *stmt;
    int rc, any = 0;

    if (prepare(r, "SELECT code, count(*) FROM events WHERE kind = 'reply' AND code IS NOT NULL GROUP BY code ORDER BY code",
                &stmt) < 0)
        return -1;
    fputs(",\"replies\":[", r->out);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fprintf(r->out, "%s{\"code\":%d,\"count\":%lld}", any ? "," : "", sqlite3_column_int(stmt, 0),
                (long long)sqlite3_column_int64(stmt, 1));
        any = 1;
    }
    fputs("]", r->out);
    return finish(r, stmt, rc);
}

static const char sql_findings_by_kind[] =
    "SELECT kind, COALESCE(extension, ''), max(CASE severity WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END),"
    " count(*), count(DISTINCT session_id) FROM findings GROUP BY kind, COALESCE(extension, '')"
    " ORDER BY count(*) DESC, kind, 2";

static const char sql_findings_by_server[] =
    "SELECT s.server_addr, count(f.id), sum(f.severity = 'error'), count(DISTINCT f.session_id),"
    " (SELECT count(*) FROM sessions x WHERE x.server_addr IS s.server_addr)"
    " FROM findings f JOIN sessions s ON s.id = f.session_id GROUP BY s.server_addr ORDER BY count(f.id) DESC, 1";

static const char *const severity_names[] = {"info", "warning", "error"};

static const char *severity_of(sqlite3_stmt *stmt, int col)
{
    int v = sqlite3_column_int(stmt, col);

    return severity_names[v < 0 ? 0 : v > 2 ? 2 : v];
}

static int data_findings(struct report *r)
{
    sqlite3_stmt *stmt;
    int rc, any = 0;

    if (prepare(r, sql_findings_by_kind, &stmt) < 0)
        return -1;
    fputs(",\"findings\":[", r->out);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fputs(any ? ",{\"kind\":" : "{\"kind\":", r->out);
        js_col(r->out, stmt, 0);
        fputs(",\"extension\":", r->out);
        js_col(r->out, stmt, 1);
        fprintf(r->out, ",\"severity\":\"%s\",\"count\":%lld}", severity_of(stmt, 2),
                (long long)sqlite3_column_int64(stmt, 3));
        any = 1;
    }
    fputs("]", r->out);
    if (finish(r, stmt, rc) < 0)
        return -1;
    if (prepare(r, sql_findings_by_server, &stmt) < 0)
        return -1;
    any = 0;
    fputs(",\"servers\":[", r->out);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fputs(any ? ",{\"server\":" : "{\"server\":", r->out);
        js_col(r->out, stmt, 0);
        fprintf(r->out, ",\"findings\":%lld,\"errors\":%lld}", (long long)sqlite3_column_int64(stmt, 1),
                (long long)sqlite3_column_int64(stmt, 2));
        any = 1;
    }
    fputs("]", r->out);
    return finish(r, stmt, rc);
}

static int write_data(struct report *r)
{
    fputs("<script type=\"application/json\" id=\"report-data\">{", r->out);
    if (data_timeline(r) < 0 || data_replies(r) < 0 || data_findings(r) < 0)
        return -1;
    fputs("}</script>\n", r->out);
    return 0;
}

/* ---- sections ---- */

static void bar_cell(FILE *out, int64_t v, int64_t max)
{
    int px = max > 0 ? (int)(v * 240 / max) : 0;

    fprintf(out, "<td><span class=\"bar\" style=\"width:%dpx\"></span></td>", px < 1 && v > 0 ? 1 : px);
}

static int write_charts(struct report *r)
{
    sqlite3_stmt *stmt;
    int64_t max = 0;
    int rc;

    fputs("<section id=\"timeline\"><h2>Sessions over time</h2>\n"
          "<div class=\"legend\"><span><i class=\"swatch\" style=\"background:#3b73b9\"></i>sessions (by start)</span>"
          "<span><i class=\"swatch\" style=\"background:#c0392b\"></i>with a warning or an error</span></div>\n"
          "<div class=\"chart\" id=\"chart-timeline\"></div></section>\n",
          r->out);
    fputs("<section id=\"replies\"><h2>Reply codes</h2>\n"
          "<div class=\"legend\"><span><i class=\"swatch\" style=\"background:#2e8b57\"></i>2xx</span>"
          "<span><i class=\"swatch\" style=\"background:#3b73b9\"></i>3xx</span>"
          "<span><i class=\"swatch\" style=\"background:#e08e0b\"></i>4xx</span>"
          "<span><i class=\"swatch\" style=\"background:#c0392b\"></i>5xx</span></div>\n"
          "<div class=\"chart\" id=\"chart-replies\"></div></section>\n",
          r->out);

    fputs("<section id=\"findings\"><h2>Findings by kind</h2>\n<div class=\"chart\" id=\"chart-findings\"></div>\n"
          "<table id=\"table-findings\"><thead><tr><th>kind</th><th>extension</th><th>severity</th><th>findings</th>"
          "<th>sessions</th><th></th></tr></thead><tbody>\n",
          r->out);
    if (prepare(r, sql_findings_by_kind, &stmt) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t c = sqlite3_column_int64(stmt, 3);
        const char *sev = severity_of(stmt, 2);
        if (max == 0)
            max = c;
        fputs("<tr><td>", r->out);
        html_col(r->out, stmt, 0);
        fputs("</td><td>", r->out);
        html_col(r->out, stmt, 1);
        fprintf(r->out, "</td><td class=\"sev-%s\">%s</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>", sev, sev,
                (long long)c, (long long)sqlite3_column_int64(stmt, 4));
        bar_cell(r->out, c, max);
        fputs("</tr>\n", r->out);
    }
    if (finish(r, stmt, rc) < 0)
        return -1;
    fputs("</tbody></table>\n<h3>Findings by server</h3>\n<div class=\"chart\" id=\"chart-servers\"></div>\n"
          "<table id=\"table-servers\"><thead><tr><th>server</th><th>findings</th><th>errors</th>"
          "<th>sessions with findings</th><th>sessions</th><th>kinds</th><th></th></tr></thead><tbody>\n",
          r->out);
    if (prepare(r,
                "SELECT s.server_addr, count(f.id), sum(f.severity = 'error'), count(DISTINCT f.session_id),"
                " (SELECT count(*) FROM sessions x WHERE x.server_addr IS s.server_addr),"
                " (SELECT group_concat(k, ', ') FROM (SELECT g.kind || ' ' || count(*) AS k FROM findings g"
                "   JOIN sessions y ON y.id = g.session_id WHERE y.server_addr IS s.server_addr"
                "   GROUP BY g.kind ORDER BY count(*) DESC, g.kind))"
                " FROM findings f JOIN sessions s ON s.id = f.session_id GROUP BY s.server_addr"
                " ORDER BY count(f.id) DESC, 1",
                &stmt) < 0)
        return -1;
    max = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t c = sqlite3_column_int64(stmt, 1);
        if (max == 0)
            max = c;
        fputs("<tr><td>", r->out);
        html_col(r->out, stmt, 0);
        fprintf(r->out, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                        "<td class=\"n\">%lld</td><td>",
                (long long)c, (long long)sqlite3_column_int64(stmt, 2), (long long)sqlite3_column_int64(stmt, 3),
                (long long)sqlite3_column_int64(stmt, 4));
        html_col(r->out, stmt, 5);
        fputs("</td>", r->out);
        bar_cell(r->out, c, max);
        fputs("</tr>\n", r->out);
    }
    if (finish(r, stmt, rc) < 0)
        return -1;
    fputs("</tbody></table></section>\n", r->out);
    return 0;
}

/*
 * The capability matrix: one row per server whose EHLO was accepted, one column per keyword.
 * A cell is "yes" when every such session advertised the keyword, "n/m" (highlighted) when only
 * some did; a row whose sessions advertised different keyword sets is highlighted (as the
 * same_capabilities column of `query servers`). The cell's tooltip lists the parameters seen.
 */
static int write_capabilities(struct report *r)
{
    static const char sql_keywords[] =
        "SELECT DISTINCT c.keyword FROM capabilities c JOIN sessions s ON s.id = c.session_id"
        " WHERE s.ehlo_accepted ORDER BY c.keyword";
    static const char sql_servers[] =
        "WITH capset AS (SELECT s.id, s.server_addr, COALESCE((SELECT group_concat(keyword, ' ') FROM"
        "   (SELECT DISTINCT c.keyword FROM capabilities c WHERE c.session_id = s.id ORDER BY c.keyword)), '') AS caps"
        "   FROM sessions s WHERE s.ehlo_accepted)"
        " SELECT server_addr, count(*), count(DISTINCT caps) FROM capset GROUP BY server_addr ORDER BY server_addr";
    static const char sql_cells[] =
        "SELECT c.keyword, count(DISTINCT c.session_id),"
        " (SELECT group_concat(p, ' | ') FROM (SELECT DISTINCT c2.params AS p FROM capabilities c2"
        "   JOIN sessions s2 ON s2.id = c2.session_id WHERE s2.server_addr IS ?1 AND s2.ehlo_accepted"
        "   AND c2.keyword = c.keyword AND c2.params <> '' ORDER BY p))"
        " FROM capabilities c JOIN sessions s ON s.id = c.session_id"
        " WHERE s.server_addr IS ?1 AND s.ehlo_accepted GROUP BY c.keyword ORDER BY c.keyword";
    sqlite3_stmt *kw = NULL, *srv = NULL, *cell = NULL;
    char **keywords = NULL;
    size_t n_kw = 0, cap = 0, i;
    int rc, status = -1, rows = 0;

    fputs("<section id=\"capabilities\"><h2>Capabilities by server</h2>\n<p class=\"muted\">EHLO keywords each server "
          "advertised (sessions whose EHLO was accepted). <b>&#10003;</b> every session, <span style=\"background:#ffe9b3\">"
          "n/m</span> only n of m sessions: the server&#39;s capability sets differed (row highlighted). "
          "Hover a cell for the parameters.</p>\n",
          r->out);
    if (prepare(r, sql_keywords, &kw) < 0)
        goto out;
    while ((rc = sqlite3_step(kw)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(kw, 0);
        if (n_kw == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nk = realloc(keywords, ncap * sizeof *nk);
            if (!nk)
                goto nomem;
            keywords = nk;
            cap = ncap;
        }
        keywords[n_kw] = strdup(k ? k : "");
        if (!keywords[n_kw])
            goto nomem;
        n_kw++;
    }
    if (finish(r, kw, rc) < 0) {
        kw = NULL;
        goto out;
    }
    kw = NULL;
    fputs("<div class=\"scroll\"><table class=\"matrix\" id=\"table-capabilities\"><thead><tr><th class=\"srv\">server"
          "</th><th>sessions</th>",
          r->out);
    for (i = 0; i < n_kw; i++) {
        fputs("<th class=\"kw\">", r->out);
        html(r->out, keywords[i]);
        fputs("</th>", r->out);
    }
    fputs("</tr></thead><tbody>\n", r->out);
    if (prepare(r, sql_servers, &srv) < 0 || prepare(r, sql_cells, &cell) < 0)
        goto out;
    while ((rc = sqlite3_step(srv)) == SQLITE_ROW) {
        const char *addr = (const char *)sqlite3_column_text(srv, 0);
        int64_t sessions = sqlite3_column_int64(srv, 1);
        int differ = sqlite3_column_int64(srv, 2) > 1, crc;
        size_t col = 0;

        rows++;
        fprintf(r->out, "<tr%s><td class=\"srv\">", differ ? " class=\"differ\" title=\"capability sets differed\"" : "");
        html(r->out, addr ? addr : "?");
        fprintf(r->out, "%s</td><td class=\"n\">%lld</td>", differ ? " &#9888;" : "", (long long)sessions);
        sqlite3_reset(cell);
        if (addr ? sqlite3_bind_text(cell, 1, addr, -1, SQLITE_TRANSIENT) != SQLITE_OK
                 : sqlite3_bind_null(cell, 1) != SQLITE_OK) {
            db_error(r);
            goto out;
        }
        while ((crc = sqlite3_step(cell)) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(cell, 0);
            int64_t n = sqlite3_column_int64(cell, 1);
            while (col < n_kw && strcmp(keywords[col], k ? k : "") != 0) {
                fputs("<td></td>", r->out);
                col++;
            }
            if (col == n_kw)
                break;
            fputs(n < sessions ? "<td class=\"some\"" : "<td class=\"yes\"", r->out);
            if (sqlite3_column_type(cell, 2) != SQLITE_NULL) {
                fputs(" title=\"", r->out);
                html_col(r->out, cell, 2);
                fputc('"', r->out);
            }
            if (n < sessions)
                fprintf(r->out, ">%lld/%lld</td>", (long long)n, (long long)sessions);
            else
                fputs(">&#10003;</td>", r->out);
            col++;
        }
        if (crc != SQLITE_DONE && crc != SQLITE_ROW) {
            db_error(r);
            goto out;
        }
        for (; col < n_kw; col++)
            fputs("<td></td>", r->out);
        fputs("</tr>\n", r->out);
    }
    if (rc != SQLITE_DONE) {
        db_error(r);
        goto out;
    }
    if (rows == 0)
        fprintf(r->out, "<tr><td class=\"srv muted\" colspan=\"%zu\">no EHLO was accepted</td></tr>\n", n_kw + 2);
    fputs("</tbody></table></div></section>\n", r->out);
    status = 0;
    goto out;
nomem:
    fprintf(stderr, "smtptrace report: out of memory\n");
out:
    sqlite3_finalize(kw);
    sqlite3_finalize(srv);
    sqlite3_finalize(cell);
    for (i = 0; i < n_kw; i++)
        free(keywords[i]);
    free(keywords);
    return status;
}

static void put_pre(struct report *r, const char *text, size_t len, const char *cls)
{
    fprintf(r->out, "<pre class=\"%s\">", cls);
    html_n(r->out, text, len);
    fputs("</pre>\n", r->out);
}

static int write_one_transcript(struct report *r, int64_t id, const char *client, const char *server)
{
    char *text = NULL, errbuf[512];
    size_t len = 0;
    int rc = 0;
    FILE *out = open_memstream(&text, &len);

    if (!out) {
        fprintf(stderr, "smtptrace report: out of memory\n");
        return -1;
    }
    if (ladder_print_db(out, r->db, r->path, id, errbuf, sizeof errbuf) < 0) {
        fclose(out);
        free(text);
        fprintf(stderr, "smtptrace report: %s\n", errbuf);
        r->failed = 1;
        return -1;
    }
    if (fclose(out) != 0) {
        free(text);
        fprintf(stderr, "smtptrace report: out of memory\n");
        return -1;
    }
    fputs("<h4>Ladder</h4>\n", r->out);
    put_pre(r, text, len, "ladder");
    free(text);
    text = NULL;
    len = 0;

    /* The same text as `smtptrace show N`: one implementation, in cmd_show.c. */
    out = open_memstream(&text, &len);
    if (!out) {
        fprintf(stderr, "smtptrace report: out of memory\n");
        return -1;
    }
    if (show_transcript(out, r->db, r->path, id, client, server) < 0)
        rc = -1;
    if (fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "smtptrace report: out of memory\n");
        rc = -1;
    }
    if (rc == 0) {
        fprintf(r->out, "<h4>Transcript (as <code>smtptrace show %lld</code>)</h4>\n", (long long)id);
        put_pre(r, text, len, "transcript");
    }
    free(text);
    return rc;
}

static int write_sessions(struct report *r)
{
    static const char sql[] =
        "SELECT s.id, replace(replace(s.start_ts, 'T', ' '), 'Z', ''), s.client_addr, s.server_addr, s.end_reason, s.greeting_verb, s.greeting_arg,"
        " (SELECT group_concat(k, ', ') FROM (SELECT f.kind || CASE WHEN count(*) > 1 THEN ' x' || count(*) ELSE '' END"
        "   AS k FROM findings f WHERE f.session_id = s.id GROUP BY f.kind ORDER BY min(f.id))),"
        " (SELECT max(CASE severity WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END) FROM findings f"
        "   WHERE f.session_id = s.id)"
        " FROM sessions s WHERE EXISTS (SELECT 1 FROM findings f WHERE f.session_id = s.id) ORDER BY s.id";
    sqlite3_stmt *stmt;
    int rc, n = 0;

    fputs("<section id=\"sessions\"><h2>Sessions with findings</h2>\n<table id=\"table-sessions\"><thead><tr>"
          "<th>session</th><th>start (UTC)</th><th>client</th><th>server</th><th>greeting</th><th>end</th>"
          "<th>findings</th></tr></thead><tbody>\n",
          r->out);
    if (prepare(r, sql, &stmt) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        long long id = (long long)sqlite3_column_int64(stmt, 0);
        const char *sev = severity_of(stmt, 8);
        n++;
        if (n <= MAX_TRANSCRIPTS)
            fprintf(r->out, "<tr><td><a href=\"#s%lld\">%lld</a></td><td>", id, id);
        else
            fprintf(r->out, "<tr><td>%lld</td><td>", id);
        html_col(r->out, stmt, 1);
        fputs("</td><td>", r->out);
        html_col(r->out, stmt, 2);
        fputs("</td><td>", r->out);
        html_col(r->out, stmt, 3);
        fputs("</td><td>", r->out);
        if (sqlite3_column_bytes(stmt, 5) > 0) {
            html_col(r->out, stmt, 5);
            fputc(' ', r->out);
        }
        html_col(r->out, stmt, 6);
        fputs("</td><td>", r->out);
        html_col(r->out, stmt, 4);
        fprintf(r->out, "</td><td class=\"sev-%s\">", sev);
        html_col(r->out, stmt, 7);
        fputs("</td></tr>\n", r->out);
    }
    if (finish(r, stmt, rc) < 0)
        return -1;
    fputs("</tbody></table>\n", r->out);
    if (n > MAX_TRANSCRIPTS)
        fprintf(r->out, "<p class=\"muted\">The first %d sessions are shown below; see the others with "
                        "<code>smtptrace show N</code>.</p>\n",
                MAX_TRANSCRIPTS);

    if (prepare(r, sql, &stmt) < 0)
        return -1;
    n = 0;
    while (n < MAX_TRANSCRIPTS && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        long long id = (long long)sqlite3_column_int64(stmt, 0);
        char *client = db_column_dup(stmt, 2), *server = db_column_dup(stmt, 3);
        n++;
        if (!client || !server) {
            free(client);
            free(server);
            sqlite3_finalize(stmt);
            fprintf(stderr, "smtptrace report: out of memory\n");
            return -1;
        }
        fprintf(r->out, "<details id=\"s%lld\"><summary><b>Session %lld</b> ", id, id);
        html(r->out, client);
        fputs(" &rarr; ", r->out);
        html(r->out, server);
        fputs(" &middot; ", r->out);
        html_col(r->out, stmt, 1);
        fprintf(r->out, " &middot; <span class=\"sev-%s\">", severity_of(stmt, 8));
        html_col(r->out, stmt, 7);
        fputs("</span></summary>\n", r->out);
        if (write_one_transcript(r, id, client, server) < 0) {
            free(client);
            free(server);
            sqlite3_finalize(stmt);
            return -1;
        }
        free(client);
        free(server);
        fputs("</details>\n", r->out);
    }
    if (n < MAX_TRANSCRIPTS) {
        if (finish(r, stmt, rc) < 0)
            return -1;
    } else {
        sqlite3_finalize(stmt);
    }
    fputs("</section>\n", r->out);
    return 0;
}

static int write_report(struct report *r)
{
    if (write_header(r) < 0 || write_charts(r) < 0 || write_capabilities(r) < 0 || write_sessions(r) < 0)
        return -1;
    fputs("<pre id=\"errors\" hidden></pre>\n</main>\n", r->out);
    if (write_data(r) < 0)
        return -1;
    fputs(page_script, r->out);
    fputs("</body>\n</html>\n", r->out);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *db_path = DEFAULT_DB, *out_path = NULL;
    enum query_open_error why;
    struct report r;
    char errbuf[1024], *tmp_path = NULL;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            report_usage(stdout);
            return EXIT_ALL_READ;
        } else if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--db") == 0) && i + 1 < argc) {
            db_path = argv[++i];
        } else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc) {
            out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "smtptrace report: unknown option '%s' (or missing value)\n", argv[i]);
            report_usage(stderr);
            return EXIT_USAGE;
        } else {
            fprintf(stderr, "smtptrace report: unexpected argument '%s'\n", argv[i]);
            report_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!out_path || !out_path[0]) {
        fprintf(stderr, "smtptrace report: no output file given (-o FILE.html, or -o - for stdout)\n");
        report_usage(stderr);
        return EXIT_USAGE;
    }
    memset(&r, 0, sizeof r);
    r.path = db_path;
    r.db = query_open(db_path, &why, errbuf, sizeof errbuf);
    if (!r.db) {
        fprintf(stderr, "smtptrace report: %s\n", errbuf);
        return EXIT_UNREADABLE;
    }
    /* Written next to the target and renamed at the end: a failed run leaves no half page behind. */
    if (strcmp(out_path, "-") == 0) {
        r.out = stdout;
    } else {
        size_t n = strlen(out_path) + sizeof ".tmp";
        tmp_path = malloc(n);
        if (!tmp_path) {
            sqlite3_close(r.db);
            fprintf(stderr, "smtptrace report: out of memory\n");
            return EXIT_NO_MEMORY;
        }
        snprintf(tmp_path, n, "%s.tmp", out_path);
        r.out = fopen(tmp_path, "w");
        if (!r.out) {
            fprintf(stderr, "smtptrace report: %s: %s\n", tmp_path, strerror(errno));
            free(tmp_path);
            sqlite3_close(r.db);
            return EXIT_UNREADABLE;
        }
    }
    rc = write_report(&r);
    if (rc == 0 && (fflush(r.out) != 0 || ferror(r.out))) {
        fprintf(stderr, "smtptrace report: %s: cannot write: %s\n", tmp_path ? tmp_path : "standard output",
                strerror(errno));
        rc = -1;
    }
    if (tmp_path) {
        if (fclose(r.out) != 0 && rc == 0) {
            fprintf(stderr, "smtptrace report: %s: cannot write: %s\n", tmp_path, strerror(errno));
            rc = -1;
        }
        if (rc == 0 && rename(tmp_path, out_path) != 0) {
            fprintf(stderr, "smtptrace report: %s: cannot rename to %s: %s\n", tmp_path, out_path, strerror(errno));
            rc = -1;
        }
        if (rc != 0)
            remove(tmp_path);
        free(tmp_path);
    }
    sqlite3_close(r.db);
    return rc == 0 ? EXIT_ALL_READ : EXIT_UNREADABLE;
}
