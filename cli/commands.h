/* commands.h: the subcommands of smtptrace, each in its own cli/cmd_*.c file. */
#ifndef SMTPTRACE_COMMANDS_H
#define SMTPTRACE_COMMANDS_H

#define SMTPTRACE_VERSION "0.1.0"

/* Each returns an exit status from cli/exit_codes.h; argv[0] is the subcommand name. */
int cmd_read(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
