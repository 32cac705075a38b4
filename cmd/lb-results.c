/*
 * lb-results: merge the workers' partial results files and write the
 * merged file and the three EvalAI files, like the leaderboard's
 * merge_statistics.py followed by leaderboard-cloud's generate_*.py.
 */
#include <sys/mman.h>

#include <err.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"

/*
 * The merge is left for exit to take back: freeing a 1600-route tree
 * node by node is a tenth of the run.  Held here (volatile: the store
 * must stay), it is still reachable at exit.
 */
static struct lb_results *volatile merged;
static void *volatile heaphead;		/* see bigpages() */

/*
 * A 1600-route merge touches some 6 MiB of heap, and a page fault costs
 * microseconds on a virtual machine: half the run went to faulting in
 * 4 KiB pages.  Grow the heap in one 16 MiB step and ask for 2 MiB pages
 * there (transparent huge pages in "madvise" mode; elsewhere a no-op).
 */
static void
bigpages(void)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = 2UL << 20;
	uintptr_t lo, hi;
	void *p;

	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_MMAP_THRESHOLD, 16 << 20);	/* the output buffers too */
	lo = (uintptr_t)sbrk(0);
	p = malloc(1);
	hi = (uintptr_t)sbrk(0);
	if (p == NULL || lo == (uintptr_t)-1 || hi == (uintptr_t)-1) {
		free(p);
		return;
	}
	lo = (lo + huge - 1) & ~(huge - 1);
	hi &= ~(huge - 1);
	if (hi > lo + huge)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	/*
	 * The heap's start up to the first 2 MiB boundary cannot have
	 * large pages: one allocation, never touched, never freed, holds
	 * it, and the merge starts past it.
	 */
	if (hi > lo + huge && lo - (uintptr_t)p > 4096)
		heaphead = malloc(lo - (uintptr_t)p - 4096);
	free(p);
#endif
}

static void
usage(void)
{
	fprintf(stderr, "usage: lb-results [-w workers] [-t total_routes] "
	    "[-o outdir] [--format 1.0|2.0]\n"
	    "                  partial_file ...\n");
	exit(LB_EUSAGE);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 }
	};
	struct lb_results_opts opts = { LB_RESULTS_LB2, 0, 0 };
	struct lb_results *r;
	struct lb_err e = { 0 };
	const char *outdir = ".";
	long v;
	int ch, status = 0;
	char *line, *nl;

	while ((ch = getopt_long(argc, argv, "o:t:w:", longopts, NULL)) != -1)
		switch (ch) {
		case 'F':
			if (strcmp(optarg, "2.0") == 0 ||
			    strcmp(optarg, "2") == 0 ||
			    strcmp(optarg, "2.1") == 0)
				opts.format = LB_RESULTS_LB2;
			else if (strcmp(optarg, "1.0") == 0 ||
			    strcmp(optarg, "1") == 0)
				opts.format = LB_RESULTS_LB1;
			else {
				warnx("--format: %s: not 1.0 or 2.0", optarg);
				usage();
			}
			break;
		case 'o':
			outdir = optarg;
			break;
		case 't':
			if (lb_util_strtol(optarg, 1, 1000000, &v) == -1) {
				warnx("-t: %s: not a route count", optarg);
				usage();
			}
			opts.routes = v;
			break;
		case 'w':
			if (lb_util_strtol(optarg, 1, 10000, &v) == -1) {
				warnx("-w: %s: not a worker count", optarg);
				usage();
			}
			opts.workers = (int)v;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	bigpages();

	merged = r = lb_results_merge((const char *const *)argv, argc, &opts,
	    &e);
	if (r == NULL) {
		warnx("merge failed, %s/merged.json left as it was: %s",
		    outdir, e.msg);
		lb_err_fold(&status, e.kind);
	} else {
		if (r->invalid != NULL)
			warnx("statistics badly formed, entry set to Invalid: "
			    "%s", r->invalid);
		for (line = r->missing.p; line != NULL && *line != '\0';
		    line = nl + 1) {
			nl = strchr(line, '\n');
			warnx("missing: %.*s", (int)(nl - line), line);
		}
		if (r->nmissing > 0)
			lb_err_fold(&status, LB_EFAIL);
	}
	lb_err_clear(&e);
	if (lb_results_write(r, outdir, opts.format, &e) == -1) {
		warnx("%s", e.msg);
		lb_err_fold(&status, e.kind);
	}
	return status;
}
