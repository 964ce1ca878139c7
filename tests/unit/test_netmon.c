/* test_netmon.c: Network Monitor names, reply meanings and the exact printed shape (KB Q240832 trace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dissect/netmon.h"

static void test_reply_meanings(void **state)
{
    (void)state;
    assert_string_equal(netmon_reply_meaning(220), "Service ready");
    assert_string_equal(netmon_reply_meaning(221), "Service closing transmission channel");
    assert_string_equal(netmon_reply_meaning(250), "Requested mail action okay, completed");
    assert_string_equal(netmon_reply_meaning(354), "Start mail input; end with <CRLF>.<CRLF>");
    assert_string_equal(netmon_reply_meaning(421), "Service not available, closing transmission channel");
    assert_string_equal(netmon_reply_meaning(500), "Syntax error, command unrecognized");
    assert_string_equal(netmon_reply_meaning(501), "Command syntax error in parameters or arguments");
    assert_string_equal(netmon_reply_meaning(502), "Command not implemented");
    assert_string_equal(netmon_reply_meaning(503), "Bad sequence of commands");
    assert_string_equal(netmon_reply_meaning(535), "Authentication credentials invalid");
    assert_string_equal(netmon_reply_meaning(552), "Requested mail action aborted: exceeded storage allocation");
    assert_string_equal(netmon_reply_meaning(472), "Transient negative completion reply");
    assert_string_equal(netmon_reply_meaning(299), "Positive completion reply");
    assert_string_equal(netmon_reply_meaning(999), "Unknown reply");
}

static void test_command_names(void **state)
{
    (void)state;
    assert_string_equal(netmon_command_name(SMTP_VERB_QUIT), "Quit, losing connection");
    assert_string_equal(netmon_command_name(SMTP_VERB_EHLO), "Extended Hello");
    assert_string_equal(netmon_command_name(SMTP_VERB_HELO), "Hello");
    assert_string_equal(netmon_command_name(SMTP_VERB_BDAT), "Binary data chunk");
    assert_string_equal(netmon_command_name(SMTP_VERB_UNKNOWN), "Unknown command");
    assert_string_equal(netmon_command_name((enum smtp_verb)999), "Unknown command");
}

static char *render(const struct netmon_item *items, size_t n)
{
    struct netmon_state st;
    char *buf = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&buf, &len);
    memset(&st, 0, sizeof st);
    assert_non_null(f);
    for (i = 0; i < n; i++)
        assert_int_equal(netmon_print(f, &st, &items[i]), 0);
    fclose(f);
    return buf;
}

static void test_kb240832_shape(void **state)
{
    struct smtp_span rsp = {"501 Invalid Address", 19}, quit = {"QUIT", 4};
    struct netmon_item items[2];
    char *text;
    (void)state;
    memset(items, 0, sizeof items);
    items[0].kind = NETMON_REPLY;
    items[0].frame = 7;
    items[0].ts_usec = 1000001;
    items[0].src = "192.0.2.25:25";
    items[0].dst = "192.0.2.1:1025";
    items[0].bytes = 21;
    items[0].code = 501;
    items[0].lines = &rsp;
    items[0].n_lines = 1;
    items[1].kind = NETMON_COMMAND;
    items[1].frame = 8;
    items[1].ts_usec = 2000000;
    items[1].src = "192.0.2.1:1025";
    items[1].dst = "192.0.2.25:25";
    items[1].bytes = 6;
    items[1].verb = SMTP_VERB_QUIT;
    items[1].lines = &quit;
    items[1].n_lines = 1;
    text = render(items, 2);
    assert_string_equal(text,
                        "Frame 7  1970-01-01 00:00:01.000001 UTC  192.0.2.25:25 -> 192.0.2.1:1025\n"
                        "SMTP: Rsp: Command syntax error in parameters or arguments, 21 bytes\n"
                        "    SMTP: Response = 501 Invalid Address\n"
                        "Frame 8  1970-01-01 00:00:02.000000 UTC  192.0.2.1:1025 -> 192.0.2.25:25\n"
                        "SMTP: Cmd: Quit, losing connection, 6 bytes\n"
                        "    SMTP: Command = QUIT\n");
    free(text);
}

static void test_multiline_and_frames(void **state)
{
    struct smtp_span lines[2] = {{"220-host Sendmail ready", 23}, {"220 ESMTP spoken here", 21}};
    uint64_t frames[3] = {3, 5, 6};
    struct netmon_item item;
    char *text;
    (void)state;
    memset(&item, 0, sizeof item);
    item.kind = NETMON_REPLY;
    item.frame = 6;
    item.frames = frames;
    item.n_frames = 3;
    item.src = "a:25";
    item.dst = "b:1";
    item.bytes = 48;
    item.code = 220;
    item.lines = lines;
    item.n_lines = 2;
    text = render(&item, 1);
    assert_non_null(strstr(text, "SMTP: Rsp: Service ready, 48 bytes (frames 3, 5, 6)\n"
                                 "    SMTP: Response = 220-host Sendmail ready\n"
                                 "        SMTP: Data = 220 ESMTP spoken here\n"));
    free(text);
}

static void test_escaping(void **state)
{
    struct smtp_span line = {"EHLO \x01\xff\\x", 9};
    struct netmon_item item;
    char *text;
    (void)state;
    memset(&item, 0, sizeof item);
    item.kind = NETMON_COMMAND;
    item.verb = SMTP_VERB_EHLO;
    item.lines = &line;
    item.n_lines = 1;
    text = render(&item, 1);
    assert_non_null(strstr(text, "SMTP: Command = EHLO \\x01\\xFF\\\\x\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_meanings),
        cmocka_unit_test(test_command_names),
        cmocka_unit_test(test_kb240832_shape),
        cmocka_unit_test(test_multiline_and_frames),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
