/* main: the fourscore command: dispatches to the subcommands of spec/api.md. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    puts("fourscore: the dealer group's after-sales reporting server");
    return 0;
}
