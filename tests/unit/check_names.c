/* check_names.c: Job names from hostile team names (DESIGN 3.5). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static const char *hostile[] = {
	"Team Alpha", "", "$(rm -rf /)", "`id`;|&<>'\"\\ *",
	"\xc3\x89quipe \xe8\x87\xaa\xe5\x8b\x95\xe9\x81\x8b\xe8\xbb\xa2 "
	"\xf0\x9f\x9a\x97", "---leading-dashes", "trailing-dashes---",
	"UPPER_case.dots.and_underscores", "\xe8\x87\xaa\xe5\x8b\x95",
	"--", "-", ".", "a", "0", "x\ny\tz", "\xff\xfe\x80 broken utf-8",
	NULL
};

/* Is s a DNS-1123 label?  Written again here, independently. */
static int
label(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 63)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	if (!((s[n - 1] >= 'a' && s[n - 1] <= 'z') ||
	    (s[n - 1] >= '0' && s[n - 1] <= '9')))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

START_TEST(plain_name_matches_the_reference)
{
	char *n = lb_names_job("Team Alpha", "SENSORS", "812", "worker", 3);

	ck_assert_str_eq(n, "team-alpha-sensors-812-worker3");
	free(n);
	n = lb_names_job("team_a", "SENSORS_QUALIFIER", "812", "monitor", 0);
	ck_assert_str_eq(n, "team-a-sensors-qualifier-812-monitor");
	free(n);
}
END_TEST

START_TEST(hostile_team_names_give_valid_names)
{
	const char **t;
	char *n;

	for (t = hostile; *t != NULL; t++) {
		n = lb_names_job(*t, "SENSORS", "5001", "worker", 1);
		ck_assert_msg(label(n), "invalid name %s for %s", n, *t);
		ck_assert(lb_names_valid(n));
		ck_assert_ptr_null(strpbrk(n, "$`;|&<>'\"\\ *()/."));
		free(n);
	}
}
END_TEST

START_TEST(empty_team_gets_a_placeholder)
{
	char *n = lb_names_job("", "MAP", "9", "monitor", 0);

	ck_assert_str_eq(n, "team-map-9-monitor");
	free(n);
	n = lb_names_job(NULL, NULL, NULL, NULL, 0);
	ck_assert(label(n));
	free(n);
}
END_TEST

START_TEST(long_names_are_cut_with_a_hash)
{
	char team[301], *a, *b;

	memset(team, 'L', 300);
	team[300] = '\0';
	a = lb_names_job(team, "SENSORS", "5001", "worker", 12);
	ck_assert(label(a));
	ck_assert_int_eq(strlen(a), 63);
	/* the unique tail survives the cut */
	ck_assert_str_eq(a + strlen(a) - strlen("-5001-worker12"),
	    "-5001-worker12");
	/* another team with the same first 50 characters: another name */
	team[299] = 'M';
	b = lb_names_job(team, "SENSORS", "5001", "worker", 12);
	ck_assert(label(b));
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(names_are_stable_and_unique)
{
	const char **t;
	char *names[64][9];
	int i, j, k, l, m = 0;

	for (t = hostile; *t != NULL; t++, m++)
		for (k = 0; k < 9; k++)
			names[m][k] = k == 8 ?
			    lb_names_job(*t, "MAP", "77", "monitor", 0) :
			    lb_names_job(*t, "MAP", "77", "worker", k + 1);
	/* within one submission, every role has its own name */
	for (i = 0; i < m; i++)
		for (k = 0; k < 9; k++)
			for (l = k + 1; l < 9; l++)
				ck_assert_str_ne(names[i][k], names[i][l]);
	/* the same input gives the same name (a resume finds its Jobs) */
	for (i = 0; i < m; i++) {
		char *again;

		again = lb_names_job(hostile[i], "MAP", "77", "worker", 1);

		ck_assert_str_eq(again, names[i][0]);
		free(again);
	}
	for (i = 0; i < m; i++)
		for (j = 0; j < 9; j++)
			free(names[i][j]);
}
END_TEST

START_TEST(long_submission_and_role)
{
	char sub[200], role[200], *n;

	memset(sub, '7', sizeof(sub) - 1);
	sub[sizeof(sub) - 1] = '\0';
	memset(role, 'r', sizeof(role) - 1);
	role[sizeof(role) - 1] = '\0';
	n = lb_names_job("t", "x", sub, role, 99999);
	ck_assert(label(n));
	free(n);
	n = lb_names_job("team", "track", "$(id)", "-monitor-", 0);
	ck_assert(label(n));
	free(n);
}
END_TEST

START_TEST(valid_checker)
{
	ck_assert(lb_names_valid("a"));
	ck_assert(lb_names_valid("a-b-0"));
	ck_assert(!lb_names_valid(""));
	ck_assert(!lb_names_valid("-a"));
	ck_assert(!lb_names_valid("a-"));
	ck_assert(!lb_names_valid("A"));
	ck_assert(!lb_names_valid("a.b"));
	ck_assert(!lb_names_valid("a?b"));
	ck_assert(lb_names_valid(
	    "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh"));
	ck_assert(!lb_names_valid("abcdefghij-abcdefghij-abcdefghij-"
	    "abcdefghij-abcdefghij-abcdefghi"));
}
END_TEST

static Suite *
names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("job");

	tcase_add_test(tc, plain_name_matches_the_reference);
	tcase_add_test(tc, hostile_team_names_give_valid_names);
	tcase_add_test(tc, empty_team_gets_a_placeholder);
	tcase_add_test(tc, long_names_are_cut_with_a_hash);
	tcase_add_test(tc, names_are_stable_and_unique);
	tcase_add_test(tc, long_submission_and_role);
	tcase_add_test(tc, valid_checker);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
