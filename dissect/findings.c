/* findings.c: names and default severities of finding kinds. */
#include "dissect/findings.h"

#include <string.h>

static const struct {
    const char *name;
    enum finding_severity severity;
} kinds[FINDING_KIND_COUNT] = {
    [FINDING_FALLBACK] = {"fallback", FINDING_WARNING},
    [FINDING_EHLO_REJECTED] = {"ehlo_rejected", FINDING_WARNING},
    [FINDING_REPLY_5XX] = {"reply_5xx", FINDING_ERROR},
    [FINDING_REPLY_4XX] = {"reply_4xx", FINDING_WARNING},
    [FINDING_SERVICE_UNAVAILABLE] = {"service_unavailable", FINDING_ERROR},
    [FINDING_CAPABILITY_MISMATCH] = {"capability_mismatch", FINDING_WARNING},
    [FINDING_SIZE_EXCEEDED] = {"size_exceeded", FINDING_ERROR},
    [FINDING_BANNER_WITHOUT_ESMTP] = {"banner_without_esmtp", FINDING_INFO},
    [FINDING_ESMTP_BANNER_EHLO_REJECTED] = {"esmtp_banner_ehlo_rejected", FINDING_WARNING},
    [FINDING_INVALID_HELO_ARGUMENT] = {"invalid_helo_argument", FINDING_WARNING},
    [FINDING_AUTH_CLEARTEXT] = {"auth_cleartext", FINDING_WARNING},
    [FINDING_SESSION_ABORTED] = {"session_aborted", FINDING_INFO},
    [FINDING_CAPTURE_GAP] = {"capture_gap", FINDING_WARNING},
    [FINDING_LINE_TOO_LONG] = {"line_too_long", FINDING_WARNING},
    [FINDING_UNMATCHED_REPLY] = {"unmatched_reply", FINDING_WARNING},
    [FINDING_BAD_REPLY] = {"bad_reply", FINDING_WARNING},
    [FINDING_INVALID_BDAT] = {"invalid_bdat", FINDING_ERROR},
    [FINDING_LIMIT_REACHED] = {"limit_reached", FINDING_WARNING},
    [FINDING_NDPI_RISK] = {"ndpi_risk", FINDING_INFO},
    [FINDING_TLS_NOT_STARTED] = {"tls_not_started", FINDING_WARNING},
};

const char *finding_kind_name(enum finding_kind kind)
{
    return (unsigned)kind < FINDING_KIND_COUNT ? kinds[kind].name : "unknown";
}

enum finding_severity finding_default_severity(enum finding_kind kind)
{
    return (unsigned)kind < FINDING_KIND_COUNT ? kinds[kind].severity : FINDING_WARNING;
}

const char *finding_severity_name(enum finding_severity severity)
{
    switch (severity) {
    case FINDING_INFO: return "info";
    case FINDING_WARNING: return "warning";
    case FINDING_ERROR: return "error";
    }
    return "unknown";
}

int finding_kind_parse(const char *name)
{
    int i;

    for (i = 0; i < FINDING_KIND_COUNT; i++)
        if (strcmp(name, kinds[i].name) == 0)
            return i;
    return -1;
}
