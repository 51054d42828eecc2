/* placeholder */
#include "cli/cli.h"
int
cmd_setup(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 1;
}
