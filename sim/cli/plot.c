/* `talentsim plot DIR`: figures and an HTML report of a results directory.
 *
 * A thin wrapper: the drawing is scripts/plot.py (matplotlib), which this
 * command finds beside the executable and replaces itself with, so the
 * script's exit status is the command's (docs/plots.md). The script is
 * looked for as scripts/plot.py in the executable's directory and then in
 * up to three directories above it (build/san/talentsim finds the
 * repository's); TALENTSIM_PLOT_SCRIPT names another, TALENTSIM_PYTHON
 * another interpreter than /usr/bin/python3. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PPROG "talentsim plot"
#define DEFAULT_PYTHON "/usr/bin/python3"
#define INSTALL_HINT "install the plotting packages with: bash scripts/install-deps.sh"
/* Directories above the executable's searched for scripts/plot.py. */
#define SCRIPT_LEVELS_UP 3

static void plot_usage(FILE *f) {
    fprintf(f,
        "Usage: talentsim plot DIR [--metric NAME] [-q]\n"
        "\n"
        "Draws the figures of a results directory into DIR/plots/*.png and writes\n"
        "DIR/report.html, one self-contained page (figures embedded, no external\n"
        "resource). DIR is recognised by its files: a run (manifest.json,\n"
        "summary.csv, ...), a comparison (compare.csv and one run per scenario),\n"
        "a sweep (sweep.csv, maybe sensitivity.csv) or a calibration\n"
        "(posterior.csv, generations.csv). Both outputs are written to temporaries\n"
        "and renamed into place: a failure leaves no half-written file.\n"
        "\n"
        "Options:\n"
        "      --metric NAME    sweeps: draw only this metric\n"
        "  -q, --quiet          print nothing but errors\n"
        "  -h, --help           show this help and exit\n"
        "\n"
        "Needs Python 3 with matplotlib and PyYAML (" INSTALL_HINT ").\n"
        "Environment: TALENTSIM_PYTHON (default " DEFAULT_PYTHON "),\n"
        "TALENTSIM_PLOT_SCRIPT (default: scripts/plot.py beside the program).\n"
        "\n"
        "Exit status: 0 done, 1 runtime failure (Python or matplotlib missing, I/O),\n"
        "2 bad usage or input (not a results directory, a missing file or column).\n");
}

/* Whether the arguments ask for help (before a "--"). */
static int wants_help(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

/* Whether a directory (an argument that is not an option) is given. */
static int has_operand(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return i + 1 < argc;
        if (argv[i][0] != '-')
            return 1;
        if (strcmp(argv[i], "--metric") == 0)
            i++; /* its value */
    }
    return 0;
}

/* scripts/plot.py in the executable's directory or one above it, into out.
 * Returns 0, or -1 when none is readable. */
static int find_script(char *out, size_t n) {
    char dir[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (len <= 0)
        return -1;
    dir[len] = '\0';
    for (int up = 0; up <= SCRIPT_LEVELS_UP; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return -1;
        *slash = '\0'; /* drop the program's name, then one directory per step */
        int w = snprintf(out, n, "%s/scripts/plot.py", dir);
        if (w > 0 && (size_t)w < n && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

int ts_plot_main(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        plot_usage(stdout);
        return 0;
    }
    if (!has_operand(argc, argv))
        return ts_cli_usage_error(PPROG, "no results directory given");
    char script[PATH_MAX];
    const char *env_script = getenv("TALENTSIM_PLOT_SCRIPT");
    if (env_script && *env_script) {
        if (access(env_script, R_OK) != 0) {
            fprintf(stderr, "%s: error: TALENTSIM_PLOT_SCRIPT=%s: %s\n", PPROG,
                    env_script, strerror(errno));
            return EXIT_RUNTIME;
        }
        snprintf(script, sizeof script, "%s", env_script);
    } else if (find_script(script, sizeof script) != 0) {
        fprintf(stderr, "%s: error: cannot find scripts/plot.py beside the talentsim "
                "program (set TALENTSIM_PLOT_SCRIPT to its path)\n", PPROG);
        return EXIT_RUNTIME;
    }
    const char *python = getenv("TALENTSIM_PYTHON");
    if (!python || !*python)
        python = DEFAULT_PYTHON;
    if (access(python, X_OK) != 0) {
        fprintf(stderr, "%s: error: Python interpreter %s not found (%s); "
                INSTALL_HINT "\n", PPROG, python, strerror(errno));
        return EXIT_RUNTIME;
    }
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        fprintf(stderr, "%s: error: out of memory\n", PPROG);
        return EXIT_RUNTIME;
    }
    args[0] = (char *)python;
    args[1] = script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(NULL);
    execv(python, args); /* returns only on failure */
    fprintf(stderr, "%s: error: cannot run %s: %s; " INSTALL_HINT "\n", PPROG, python,
            strerror(errno));
    free(args);
    return EXIT_RUNTIME;
}
