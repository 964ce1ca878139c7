/* netmon.c: Network Monitor-style text for SMTP commands, replies, message data, TLS and gaps. */
#include "dissect/netmon.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* Body lines shown per frame: Network Monitor showed the start of the data, not all of it. */
#define NETMON_BODY_LINES 3
#define NETMON_BODY_LINE_CHARS 120

static const char *const command_names[SMTP_VERB_COUNT] = {
    [SMTP_VERB_UNKNOWN] = "Unknown command",
    [SMTP_VERB_HELO] = "Hello",
    [SMTP_VERB_EHLO] = "Extended Hello",
    [SMTP_VERB_MAIL] = "Mail",
    [SMTP_VERB_RCPT] = "Recipient",
    [SMTP_VERB_DATA] = "Data",
    [SMTP_VERB_BDAT] = "Binary data chunk",
    [SMTP_VERB_RSET] = "Reset",
    [SMTP_VERB_VRFY] = "Verify",
    [SMTP_VERB_EXPN] = "Expand",
    [SMTP_VERB_HELP] = "Help",
    [SMTP_VERB_NOOP] = "No operation",
    [SMTP_VERB_QUIT] = "Quit, losing connection",
    [SMTP_VERB_STARTTLS] = "Start TLS",
    [SMTP_VERB_AUTH] = "Authenticate",
    [SMTP_VERB_ETRN] = "Extended turn",
    [SMTP_VERB_ATRN] = "Authenticated turn",
    [SMTP_VERB_TURN] = "Turn",
    [SMTP_VERB_SEND] = "Send",
    [SMTP_VERB_SOML] = "Send or mail",
    [SMTP_VERB_SAML] = "Send and mail",
    [SMTP_VERB_XAUTH] = "Exchange authenticate",
    [SMTP_VERB_XEXCH50] = "Exchange binary data",
    [SMTP_VERB_X_LINK2STATE] = "Exchange link state",
};

const char *netmon_command_name(enum smtp_verb verb)
{
    if ((unsigned)verb >= SMTP_VERB_COUNT || !command_names[verb])
        return command_names[SMTP_VERB_UNKNOWN];
    return command_names[verb];
}

struct code_meaning {
    int code;
    const char *meaning;
};

/* RFC 5321 4.2.2 and 4.2.3 (501 worded as Network Monitor did), RFC 4954 6, RFC 3207 4, RFC 7504 3. */
static const struct code_meaning reply_meanings[] = {
    {211, "System status, or system help reply"},
    {214, "Help message"},
    {220, "Service ready"},
    {221, "Service closing transmission channel"},
    {235, "Authentication successful"},
    {250, "Requested mail action okay, completed"},
    {251, "User not local; will forward"},
    {252, "Cannot verify user, but will accept message and attempt delivery"},
    {334, "Authentication challenge"},
    {354, "Start mail input; end with <CRLF>.<CRLF>"},
    {421, "Service not available, closing transmission channel"},
    {432, "A password transition is needed"},
    {450, "Requested mail action not taken: mailbox unavailable"},
    {451, "Requested action aborted: local error in processing"},
    {452, "Requested action not taken: insufficient system storage"},
    {454, "Temporary authentication failure or TLS not available"},
    {455, "Server unable to accommodate parameters"},
    {500, "Syntax error, command unrecognized"},
    {501, "Command syntax error in parameters or arguments"},
    {502, "Command not implemented"},
    {503, "Bad sequence of commands"},
    {504, "Command parameter not implemented"},
    {521, "Host does not accept mail"},
    {530, "Authentication required"},
    {534, "Authentication mechanism is too weak"},
    {535, "Authentication credentials invalid"},
    {538, "Encryption required for requested authentication mechanism"},
    {550, "Requested action not taken: mailbox unavailable"},
    {551, "User not local; please try <forward-path>"},
    {552, "Requested mail action aborted: exceeded storage allocation"},
    {553, "Requested action not taken: mailbox name not allowed"},
    {554, "Transaction failed"},
    {555, "MAIL FROM/RCPT TO parameters not recognized or not implemented"},
    {556, "Domain does not accept mail"},
};

const char *netmon_reply_meaning(int code)
{
    size_t lo = 0, hi = sizeof reply_meanings / sizeof reply_meanings[0];

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (reply_meanings[mid].code == code)
            return reply_meanings[mid].meaning;
        if (reply_meanings[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* RFC 5321 4.2.1: the first digit alone still says how the reply went. */
    switch (code / 100) {
    case 1: return "Positive preliminary reply";
    case 2: return "Positive completion reply";
    case 3: return "Positive intermediate reply";
    case 4: return "Transient negative completion reply";
    case 5: return "Permanent negative completion reply";
    default: return "Unknown reply";
    }
}

int netmon_write_escaped(FILE *out, const char *text, size_t len)
{
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            continue;
        if (i > run && fwrite(text + run, 1, i - run, out) != i - run)
            return -1;
        if (c == '\\') {
            if (fputs("\\\\", out) == EOF)
                return -1;
        } else if (fprintf(out, "\\x%02X", c) < 0) {
            return -1;
        }
        run = i + 1;
    }
    if (len > run && fwrite(text + run, 1, len - run, out) != len - run)
        return -1;
    return 0;
}

static int print_frame_header(FILE *out, const struct netmon_item *item)
{
    time_t secs = (time_t)(item->ts_usec >= 0 ? item->ts_usec / 1000000
                                              : (item->ts_usec - 999999) / 1000000);
    long usec = (long)(item->ts_usec - (int64_t)secs * 1000000);
    struct tm tm;
    char when[32];

    if (!gmtime_r(&secs, &tm) || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(when, sizeof when, "%" PRId64, (int64_t)secs);
    return fprintf(out, "Frame %" PRIu64 "  %s.%06ld UTC  %s -> %s\n", item->frame, when, usec,
                   item->src ? item->src : "?", item->dst ? item->dst : "?") < 0
               ? -1
               : 0;
}

/* ", frames 5, 7, 9" when the item was spread over several frames. */
static int print_frames_suffix(FILE *out, const struct netmon_item *item)
{
    size_t i;

    if (item->n_frames <= 1 || !item->frames)
        return 0;
    if (fputs(" (frames", out) == EOF)
        return -1;
    for (i = 0; i < item->n_frames; i++)
        if (fprintf(out, "%s %" PRIu64, i ? "," : "", item->frames[i]) < 0)
            return -1;
    return fputs(")", out) == EOF ? -1 : 0;
}

static int print_detail(FILE *out, const char *prefix, const struct smtp_span *line, size_t cap)
{
    size_t len = line->len < cap ? line->len : cap;

    if (fputs(prefix, out) == EOF || netmon_write_escaped(out, line->p, len) < 0)
        return -1;
    if (len < line->len && fputs("...", out) == EOF)
        return -1;
    return fputc('\n', out) == EOF ? -1 : 0;
}

static int print_summary(FILE *out, const char *what, const char *name, const struct netmon_item *item)
{
    if (fprintf(out, "SMTP: %s%s, %" PRIu64 " bytes", what, name, item->bytes) < 0)
        return -1;
    if (print_frames_suffix(out, item) < 0)
        return -1;
    return fputc('\n', out) == EOF ? -1 : 0;
}

/* Body text of one frame split at LF, first few lines only. */
static int print_body_lines(FILE *out, const struct netmon_item *item)
{
    const char *p, *end;
    size_t shown = 0;

    if (item->n_lines == 0 || !item->lines)
        return 0;
    p = item->lines[0].p;
    end = p + item->lines[0].len;
    while (p < end && shown < NETMON_BODY_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct smtp_span line;
        line.p = p;
        line.len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (line.len > 0 && line.p[line.len - 1] == '\r')
            line.len--;
        if (print_detail(out, "    SMTP: Data = ", &line, NETMON_BODY_LINE_CHARS) < 0)
            return -1;
        shown++;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int netmon_print(FILE *out, struct netmon_state *state, const struct netmon_item *item)
{
    size_t i;

    if (!state->have_last || state->last_frame != item->frame) {
        if (print_frame_header(out, item) < 0)
            return -1;
        state->last_frame = item->frame;
        state->have_last = 1;
    }
    switch (item->kind) {
    case NETMON_COMMAND:
        if (print_summary(out, "Cmd: ", netmon_command_name(item->verb), item) < 0)
            return -1;
        if (item->n_lines > 0 && print_detail(out, "    SMTP: Command = ", &item->lines[0], SIZE_MAX) < 0)
            return -1;
        return 0;
    case NETMON_AUTH_RESPONSE:
        if (print_summary(out, "Cmd: ", "Authentication response", item) < 0)
            return -1;
        if (item->n_lines > 0 && print_detail(out, "    SMTP: Command = ", &item->lines[0], SIZE_MAX) < 0)
            return -1;
        return 0;
    case NETMON_REPLY:
        if (print_summary(out, "Rsp: ", netmon_reply_meaning(item->code), item) < 0)
            return -1;
        for (i = 0; i < item->n_lines; i++)
            if (print_detail(out, i == 0 ? "    SMTP: Response = " : "        SMTP: Data = ",
                             &item->lines[i], SIZE_MAX) < 0)
                return -1;
        return 0;
    case NETMON_BAD_REPLY:
        if (print_summary(out, "Rsp: ", "Response without a reply code", item) < 0)
            return -1;
        if (item->n_lines > 0 && print_detail(out, "    SMTP: Response = ", &item->lines[0], SIZE_MAX) < 0)
            return -1;
        return 0;
    case NETMON_BODY:
        if (print_summary(out, "Data", "", item) < 0)
            return -1;
        return print_body_lines(out, item);
    case NETMON_BDAT_DATA:
        return print_summary(out, "Binary data", "", item);
    case NETMON_TLS:
        return print_summary(out, "Encrypted data", "", item);
    case NETMON_GAP:
        return fprintf(out, "SMTP: Missing data, %" PRIu64 " bytes not in the capture\n", item->bytes) < 0
                   ? -1
                   : 0;
    }
    return 0;
}
