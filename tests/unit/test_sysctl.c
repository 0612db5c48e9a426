/* Settings by name (src/stack/sysctl.c): every field of tern_settings has
 * one key that reads and writes it, bad values are refused with the
 * exact reason and change nothing, sysctl.conf(5) text is applied all or
 * nothing with FILE:LINE in its errors, and tern_stack_new refuses
 * exactly what tern_settings_check refuses. */
#include <stdio.h>
#include <string.h>

#include <tern/stack.h>

#include "testutil.h"

#define NKEYS 32 /* the fields of tern_settings */

static size_t key_count(void)
{
	tern_sysctl_info info;
	size_t n = 0;

	while (tern_sysctl_info_get(n, &info))
		n++;
	return n;
}

static void test_keys_sorted_named_and_described(void **state)
{
	tern_sysctl_info info, prev = {0};
	(void)state;

	assert_int_equal(key_count(), NKEYS);
	for (size_t i = 0; tern_sysctl_info_get(i, &info); i++) {
		/* Linux's full names, or tern's own under net.tern. */
		assert_true(strncmp(info.name, "net.ipv4.", 9) == 0 ||
			    strncmp(info.name, "net.core.", 9) == 0 ||
			    strncmp(info.name, "net.tern.", 9) == 0);
		assert_true(info.help && *info.help && info.unit);
		if (i > 0) /* `tern sysctl -a` order, no duplicates */
			assert_true(strcmp(prev.name, info.name) < 0);
		prev = info;
	}
	assert_false(tern_sysctl_info_get(NKEYS, &info));
}

/* Setting every key to its default text over garbage gives exactly the
 * defaults: each key writes all of its field, and together they write
 * every byte of tern_settings. */
static void set_all_from_defaults(tern_settings *s)
{
	tern_settings def;
	tern_sysctl_info info;
	char text[128], reason[256];

	tern_settings_default(&def);
	for (size_t i = 0; tern_sysctl_info_get(i, &info); i++) {
		assert_int_equal(
			tern_sysctl_get(&def, info.name, text, sizeof(text)),
			0);
		int err = tern_sysctl_set(s, info.name, text, reason,
					  sizeof(reason));
		if (err)
			fail_msg("%s = %s: %s", info.name, text, reason);
	}
}

static void test_every_key_round_trips_its_default(void **state)
{
	tern_settings def, a, b;
	(void)state;

	tern_settings_default(&def);
	memset(&a, 0xaa, sizeof(a));
	memset(&b, 0x55, sizeof(b));
	set_all_from_defaults(&a);
	set_all_from_defaults(&b);
	assert_memory_equal(&a, &def, sizeof(def));
	assert_memory_equal(&b, &def, sizeof(def));
}

static void expect_get(const tern_settings *s, const char *key,
		       const char *want)
{
	char buf[128];

	assert_int_equal(tern_sysctl_get(s, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_get_prints_as_sysctl(void **state)
{
	tern_settings s;
	char small[8];
	(void)state;

	tern_settings_default(&s);
	expect_get(&s, "net.ipv4.tcp_fin_timeout", "60");
	/* vectors with tabs, as Linux prints them */
	expect_get(&s, "net.ipv4.tcp_rmem", "4096\t131072\t6291456");
	expect_get(&s, "net.ipv4.tcp_wmem", "4096\t16384\t4194304");
	expect_get(&s, "net.ipv4.ip_local_port_range", "32768\t60999");
	expect_get(&s, "net.ipv4.tcp_congestion_control", "cubic");
	expect_get(&s, "net.core.somaxconn", "4096");
	expect_get(&s, "net.tern.tcp_msl_ms", "30000");
	expect_get(&s, "net/ipv4/tcp_syn_retries", "6");
	assert_int_equal(
		tern_sysctl_get(&s, "net.ipv4.tcp_rmem", small, sizeof(small)),
		TERN_ERR_NOBUFS);
	assert_int_equal(
		tern_sysctl_get(&s, "net.ipv4.nope", small, sizeof(small)),
		TERN_ERR_NOENT);
}

static void test_set_takes_both_spellings_and_blanks(void **state)
{
	tern_settings s;
	tern_sysctl_info info;
	(void)state;

	tern_settings_default(&s);
	assert_int_equal(
		tern_sysctl_set(&s, "net/ipv4/tcp_fin_timeout", "30", NULL, 0),
		0);
	assert_int_equal(s.tcp_fin_timeout, 30);
	assert_int_equal(tern_sysctl_set(&s, "net.ipv4.tcp_rmem",
					 " 8192\t65536   1048576 ", NULL, 0),
			 0);
	assert_int_equal(s.tcp_rmem[0], 8192);
	assert_int_equal(s.tcp_rmem[1], 65536);
	assert_int_equal(s.tcp_rmem[2], 1048576);
	assert_int_equal(tern_sysctl_set(&s, "net.ipv4.tcp_congestion_control",
					 "reno", NULL, 0),
			 0);
	assert_string_equal(s.tcp_congestion_control, "reno");
	assert_int_equal(
		tern_sysctl_set(&s, "net.tern.tcp_msl_ms", "1000", NULL, 0), 0);
	assert_int_equal(s.msl_ms, 1000);
	/* sysctl.d(5): after a first slash, a dot is a separator no more */
	assert_int_equal(
		tern_sysctl_set(&s, "net/ipv4.tcp_fin_timeout", "30", NULL, 0),
		TERN_ERR_NOENT);
	assert_int_equal(tern_sysctl_lookup("net/tern/tcp_msl_ms", &info), 0);
	assert_string_equal(info.name, "net.tern.tcp_msl_ms");
	assert_string_equal(info.unit, "ms");
}

static const struct bad {
	const char *key, *value;
	int err;
	const char *reason;
} bad[] = {
	{"net.ipv4.tcp_fin_timeout", "abc", TERN_ERR_INVAL,
	 "net.ipv4.tcp_fin_timeout: 'abc' is not a whole number"},
	{"net.ipv4.tcp_fin_timeout", "0x10", TERN_ERR_INVAL,
	 "net.ipv4.tcp_fin_timeout: '0x10' is not a whole number"},
	{"net.ipv4.tcp_fin_timeout", "", TERN_ERR_INVAL,
	 "net.ipv4.tcp_fin_timeout: expected one number"},
	{"net.ipv4.tcp_fin_timeout", "30 40", TERN_ERR_INVAL,
	 "net.ipv4.tcp_fin_timeout: expected one number"},
	{"net.ipv4.tcp_fin_timeout", "0", TERN_ERR_INVAL,
	 "net.ipv4.tcp_fin_timeout: 0 is not from 1 to 2147483"},
	{"net.ipv4.tcp_syn_retries", "200", TERN_ERR_INVAL,
	 "net.ipv4.tcp_syn_retries: 200 is not from 1 to 127"},
	{"net.ipv4.tcp_max_orphans", "99999999999", TERN_ERR_INVAL,
	 "net.ipv4.tcp_max_orphans: 99999999999 is not from 0 to "
	 "2147483647"},
	{"net.ipv4.tcp_syncookies", "3", TERN_ERR_INVAL,
	 "net.ipv4.tcp_syncookies: 3 is not one of 0, 1, 2"},
	{"net.ipv4.tcp_tw_reuse", "-1", TERN_ERR_INVAL,
	 "net.ipv4.tcp_tw_reuse: -1 is not one of 0, 1, 2"},
	{"net.ipv4.tcp_sack", "2", TERN_ERR_INVAL,
	 "net.ipv4.tcp_sack: 2 is not one of 0, 1"},
	{"net.ipv4.tcp_rmem", "4096 131072", TERN_ERR_INVAL,
	 "net.ipv4.tcp_rmem: expected 3 numbers (min default max)"},
	{"net.ipv4.tcp_rmem", "1 2 3 4", TERN_ERR_INVAL,
	 "net.ipv4.tcp_rmem: expected 3 numbers (min default max)"},
	{"net.ipv4.tcp_rmem", "10 5 1", TERN_ERR_INVAL,
	 "net.ipv4.tcp_rmem: 10 5 1 is not in order (min <= default <= "
	 "max)"},
	{"net.ipv4.tcp_rmem", "0 131072 6291456", TERN_ERR_INVAL,
	 "net.ipv4.tcp_rmem: 0 is not from 1 to 2147483647"},
	{"net.ipv4.tcp_wmem", "100 512 1000", TERN_ERR_INVAL,
	 "net.ipv4.tcp_wmem: default 512 is below tern's least, 1024"},
	{"net.ipv4.ip_local_port_range", "1000", TERN_ERR_INVAL,
	 "net.ipv4.ip_local_port_range: expected 2 numbers (low high)"},
	{"net.ipv4.ip_local_port_range", "2000 1000", TERN_ERR_INVAL,
	 "net.ipv4.ip_local_port_range: low 2000 is above high 1000"},
	{"net.ipv4.ip_local_port_range", "0 1000", TERN_ERR_INVAL,
	 "net.ipv4.ip_local_port_range: 0 is not from 1 to 65535"},
	{"net.ipv4.tcp_congestion_control", "bbr", TERN_ERR_INVAL,
	 "net.ipv4.tcp_congestion_control: 'bbr' is not available (cubic, "
	 "reno)"},
	{"net.ipv4.tcp_congestion_control", "reno cubic", TERN_ERR_INVAL,
	 "net.ipv4.tcp_congestion_control: 'reno cubic' is not available "
	 "(cubic, reno)"},
	{"net.ipv4.tcp_congestion_control", "", TERN_ERR_INVAL,
	 "net.ipv4.tcp_congestion_control: expected a name (cubic, reno)"},
	{"net.tern.tcp_delack_ms", "500", TERN_ERR_INVAL,
	 "net.tern.tcp_delack_ms: 500 is not from 1 to 499"},
	{"net.ipv4.nope", "1", TERN_ERR_NOENT, "net.ipv4.nope: unknown key"},
	/* short names are not keys, as with sysctl */
	{"tcp_fin_timeout", "30", TERN_ERR_NOENT,
	 "tcp_fin_timeout: unknown key"},
};

static void test_bad_values_refused_with_reason(void **state)
{
	tern_settings def, s;
	char reason[256];
	(void)state;

	tern_settings_default(&def);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = def;
		int err = tern_sysctl_set(&s, bad[i].key, bad[i].value, reason,
					  sizeof(reason));
		if (err != bad[i].err || strcmp(reason, bad[i].reason) != 0)
			fail_msg("%s = '%s': %d '%s', expected %d '%s'",
				 bad[i].key, bad[i].value, err, reason,
				 bad[i].err, bad[i].reason);
		assert_memory_equal(&s, &def, sizeof(s));
	}
}

/* ---- sysctl.conf(5) text ---- */

static void test_load_comments_blanks_slashes_dash(void **state)
{
	tern_settings s;
	char reason[256] = "";
	const char *text = "# tern.conf\n"
			   "; also a comment\n"
			   "\n"
			   "   \t\n"
			   "net.ipv4.tcp_fin_timeout = 30\n"
			   "net.ipv4.tcp_syncookies=2\r\n"
			   "  net/ipv4/tcp_rmem =\t8192 65536 1048576  \n"
			   "-net.ipv4.tcp_not_in_tern = 1\n"
			   "- net.core.somaxconn = 128\n"
			   "net.ipv4.tcp_fin_timeout = 20"; /* later wins */
	(void)state;

	tern_settings_default(&s);
	assert_int_equal(tern_sysctl_load_text(&s, "tern.conf", text, reason,
					       sizeof(reason)),
			 0);
	assert_int_equal(s.tcp_fin_timeout, 20);
	assert_int_equal(s.tcp_syncookies, 2);
	assert_int_equal(s.tcp_rmem[1], 65536);
	assert_int_equal(s.somaxconn, 128);
}

static void expect_load_refused(const char *text, int want_err,
				const char *want)
{
	tern_settings s, before;
	char reason[256] = "";

	tern_settings_default(&s);
	s.tcp_keepalive_time = 600; /* not the defaults: must stay as is */
	before = s;
	int err = tern_sysctl_load_text(&s, "t.conf", text, reason,
					sizeof(reason));
	if (err != want_err || strcmp(reason, want) != 0)
		fail_msg("%d '%s', expected %d '%s'", err, reason, want_err,
			 want);
	assert_memory_equal(&s, &before, sizeof(s));
}

static void test_load_bad_line_applies_nothing(void **state)
{
	(void)state;
	expect_load_refused(
		"net.ipv4.tcp_fin_timeout = 30\n"
		"# fine so far\n"
		"net.ipv4.tcp_sack = 2\n",
		TERN_ERR_INVAL,
		"t.conf:3: net.ipv4.tcp_sack: 2 is not one of 0, 1");
	expect_load_refused("net.ipv4.tcp_fin_timeout = 30\n"
			    "net.ipv4.bogus = 1\n",
			    TERN_ERR_NOENT,
			    "t.conf:2: net.ipv4.bogus: unknown key");
	expect_load_refused("net.ipv4.tcp_sack 1\n", TERN_ERR_INVAL,
			    "t.conf:1: expected KEY = VALUE, got "
			    "'net.ipv4.tcp_sack 1'");
	expect_load_refused("= 1\n", TERN_ERR_INVAL,
			    "t.conf:1: no key before '='");
	/* '-' forgives an unknown key, not a bad value */
	expect_load_refused("-net.ipv4.tcp_sack = 7\n", TERN_ERR_INVAL,
			    "t.conf:1: net.ipv4.tcp_sack: 7 is not one of 0, "
			    "1");
	expect_load_refused("net.ipv4.tcp_wmem = 4096 16384\n", TERN_ERR_INVAL,
			    "t.conf:1: net.ipv4.tcp_wmem: expected 3 numbers "
			    "(min default max)");
	/* a comment after a value is part of the value (sysctl.conf(5)) */
	expect_load_refused("net.ipv4.tcp_fin_timeout = 30 # half\n",
			    TERN_ERR_INVAL,
			    "t.conf:1: net.ipv4.tcp_fin_timeout: expected one "
			    "number");
}

/* Rules between keys hold for the whole file, whatever the order of its
 * lines, and a broken one names the later line of the two. */
static void test_load_rules_between_keys(void **state)
{
	tern_settings s;
	(void)state;

	expect_load_refused("net.tern.tcp_rto_min_ms = 100\n"
			    "\n"
			    "net.tern.tcp_rto_initial_ms = 50\n",
			    TERN_ERR_INVAL,
			    "t.conf:3: net.tern.tcp_rto_min_ms = 100 is above "
			    "net.tern.tcp_rto_initial_ms = 50");
	expect_load_refused("net.tern.tcp_rto_max_ms = 150\n", TERN_ERR_INVAL,
			    "t.conf:1: net.tern.tcp_rto_min_ms = 200 is above "
			    "net.tern.tcp_rto_max_ms = 150");
	tern_settings_default(&s);
	/* min above the old initial RTO, then the initial raised: fine */
	assert_int_equal(
		tern_sysctl_load_text(&s, "t.conf",
				      "net.tern.tcp_rto_min_ms = 2000\n"
				      "net.tern.tcp_rto_initial_ms = "
				      "3000\n",
				      NULL, 0),
		0);
	assert_int_equal(s.rto_min_ms, 2000);
	assert_int_equal(s.rto_initial_ms, 3000);
}

static void test_load_file_names_the_file(void **state)
{
	const char *path = tu_build_path("test_sysctl.conf");
	tern_settings s, before;
	char reason[512], want[512];
	FILE *f = fopen(path, "w");
	(void)state;

	assert_non_null(f);
	fputs("# a file\nnet.ipv4.tcp_fin_timeout = 30\n", f);
	fclose(f);
	tern_settings_default(&s);
	assert_int_equal(
		tern_sysctl_load_file(&s, path, reason, sizeof(reason)), 0);
	assert_int_equal(s.tcp_fin_timeout, 30);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("net.ipv4.tcp_keepalive_time = 60\n"
	      "net.ipv4.tcp_keepalive_probes = 0\n",
	      f);
	fclose(f);
	before = s;
	assert_int_equal(
		tern_sysctl_load_file(&s, path, reason, sizeof(reason)),
		TERN_ERR_INVAL);
	snprintf(want, sizeof(want),
		 "%s:2: net.ipv4.tcp_keepalive_probes: 0 is not from 1 to "
		 "255",
		 path);
	assert_string_equal(reason, want);
	assert_memory_equal(&s, &before, sizeof(s));
	remove(path);

	assert_int_equal(
		tern_sysctl_load_file(&s, path, reason, sizeof(reason)),
		TERN_ERR_IO);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(reason, want);
}

/* ---- one set of rules: tern_stack_new refuses what the table does ---- */

static bool stack_takes(const tern_settings *s)
{
	tern_stack *st = tern_stack_new(&(tern_stack_config){
		.name = "t", .addr = 0x0a000001, .settings = s});
	tern_stack_free(st);
	return st != NULL;
}

/* Settings broken by hand, past tern_sysctl_set: each refused by
 * tern_settings_check with this reason, and by tern_stack_new. */
static const char *break_one(int i, tern_settings *s)
{
	switch (i) {
	case 0:
		s->tcp_syncookies = 3;
		return "net.ipv4.tcp_syncookies: 3 is not one of 0, 1, 2";
	case 1:
		s->tcp_rmem[0] = 10, s->tcp_rmem[1] = 5, s->tcp_rmem[2] = 1;
		return "net.ipv4.tcp_rmem: 10 5 1 is not in order (min <= "
		       "default <= max)";
	case 2:
		s->ip_local_port_range[0] = 2000;
		s->ip_local_port_range[1] = 1000;
		return "net.ipv4.ip_local_port_range: low 2000 is above high "
		       "1000";
	case 3:
		s->tcp_synack_retries = 256;
		return "net.ipv4.tcp_synack_retries: 256 is not from 0 to 255";
	case 4:
		s->rto_min_ms = 5000;
		return "net.tern.tcp_rto_min_ms = 5000 is above "
		       "net.tern.tcp_rto_initial_ms = 1000";
	case 5:
		s->rto_max_ms = 100;
		return "net.tern.tcp_rto_min_ms = 200 is above "
		       "net.tern.tcp_rto_max_ms = 100";
	case 6:
		snprintf(s->tcp_congestion_control,
			 sizeof(s->tcp_congestion_control), "bbr");
		return "net.ipv4.tcp_congestion_control: 'bbr' is not "
		       "available (cubic, reno)";
	case 7:
		memset(s->tcp_congestion_control, 'x',
		       sizeof(s->tcp_congestion_control));
		return "net.ipv4.tcp_congestion_control: a name of at most 15 "
		       "characters";
	case 8:
		s->msl_ms = 0;
		return "net.tern.tcp_msl_ms: 0 is not from 1 to 2147483647";
	case 9:
		s->rto_initial_ms = 3000000000u;
		return "net.tern.tcp_rto_initial_ms: 3000000000 is not from 1 "
		       "to 2147483647";
	case 10:
		s->tcp_timestamps = 2;
		return "net.ipv4.tcp_timestamps: 2 is not one of 0, 1";
	case 11:
		s->somaxconn = 0;
		return "net.core.somaxconn: 0 is not from 1 to 2147483647";
	default:
		return NULL;
	}
}

/* The far ends of ranges, taken by both. */
static bool stretch_one(int i, tern_settings *s)
{
	switch (i) {
	case 0:
		s->tcp_synack_retries = 0;
		s->tcp_syn_retries = 127;
		return true;
	case 1:
		s->ip_local_port_range[0] = 1;
		s->ip_local_port_range[1] = 65535;
		return true;
	case 2:
		s->delack_ms = 499;
		s->tcp_initcwnd = 1000;
		s->tcp_invalid_ratelimit = 0;
		return true;
	case 3:
		s->tcp_orphan_retries = 255;
		s->tcp_retries2 = 255;
		s->tcp_syncookies = 2;
		s->tcp_tw_reuse = 0;
		return true;
	case 4:
		s->tcp_rmem[0] = s->tcp_rmem[1] = s->tcp_rmem[2] = 1024;
		s->rto_min_ms = s->rto_initial_ms = s->rto_max_ms = 1;
		return true;
	default:
		return false;
	}
}

static void test_stack_new_agrees_with_check(void **state)
{
	tern_settings def, s;
	char reason[256];
	const char *want;
	(void)state;

	tern_settings_default(&def);
	assert_int_equal(tern_settings_check(&def, NULL, 0), 0);
	assert_true(stack_takes(&def));
	for (int i = 0; s = def, (want = break_one(i, &s)) != NULL; i++) {
		assert_int_equal(
			tern_settings_check(&s, reason, sizeof(reason)),
			TERN_ERR_INVAL);
		assert_string_equal(reason, want);
		assert_false(stack_takes(&s));
	}
	for (int i = 0; s = def, stretch_one(i, &s); i++) {
		assert_int_equal(
			tern_settings_check(&s, reason, sizeof(reason)), 0);
		assert_true(stack_takes(&s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_sorted_named_and_described),
		cmocka_unit_test(test_every_key_round_trips_its_default),
		cmocka_unit_test(test_get_prints_as_sysctl),
		cmocka_unit_test(test_set_takes_both_spellings_and_blanks),
		cmocka_unit_test(test_bad_values_refused_with_reason),
		cmocka_unit_test(test_load_comments_blanks_slashes_dash),
		cmocka_unit_test(test_load_bad_line_applies_nothing),
		cmocka_unit_test(test_load_rules_between_keys),
		cmocka_unit_test(test_load_file_names_the_file),
		cmocka_unit_test(test_stack_new_agrees_with_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
