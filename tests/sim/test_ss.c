/* tern_stack_conns and tern_stack_abort_conn (src/stack/enum.c): every
 * connection of a stack is seen, listeners and TIME_WAIT records
 * included, and one can be reset by its id, as `tern ss -K` does. */
#include <string.h>

#include "testutil.h"

#include <tern/sim.h>
#include <tern/stack.h>

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u

typedef struct seen {
	int n, states[TERN_TCP_STATE_COUNT], records, listeners, timers;
	uint64_t est_id;
} seen;

static void count(const tern_conn_view *v, void *arg)
{
	seen *s = arg;
	s->n++;
	s->states[v->info.state]++;
	s->records += v->timewait_record;
	s->listeners += v->listener;
	s->timers += v->timer != TERN_TIMER_OFF;
	if (v->info.state == TERN_TCP_ESTABLISHED && v->info.remote.port)
		s->est_id = v->info.conn_id;
}

typedef struct pick {
	uint64_t tw, listener;
} pick;

static void pick_ids(const tern_conn_view *v, void *arg)
{
	pick *p = arg;
	if (v->timewait_record)
		p->tw = v->info.conn_id;
	if (v->listener)
		p->listener = v->info.conn_id;
}

static void test_enumerate_and_abort(void **state)
{
	(void)state;
	tern_sim_path path = {.delay = 5 * TERN_MSEC};
	tern_sim *sim = tern_sim_new(3);
	tern_link *a = tern_sim_port(sim, CLIENT, 1500);
	tern_link *b = tern_sim_port(sim, SERVER, 1500);
	assert_true(tern_sim_join(sim, a, b, &path, &path) >= 0);
	tern_stack_config cc = {.name = "client", .addr = CLIENT};
	tern_stack_config sc = {.name = "server", .addr = SERVER};
	tern_stack *c = tern_stack_new(&cc), *s = tern_stack_new(&sc);
	assert_int_equal(tern_sim_add_stack(sim, c, a), 0);
	assert_int_equal(tern_sim_add_stack(sim, s, b), 0);
	tern_conn *l = tern_tcp_listen(s, 80, 16, NULL, 0, NULL);
	tern_endpoint dst = {SERVER, 80};
	tern_time now = 0;
	tern_conn *c1 = tern_tcp_connect(c, &dst, NULL, now, NULL);
	tern_conn *c2 = tern_tcp_connect(c, &dst, NULL, now, NULL);
	tern_sim_run(sim, now += 100 * TERN_MSEC);
	tern_conn *s1 = tern_tcp_accept(l, NULL),
		  *s2 = tern_tcp_accept(l, NULL);
	assert_non_null(s2);
	/* the server closes s1 first: a TIME_WAIT record on its side */
	tern_tcp_close(s1, now);
	tern_sim_run(sim, now += 100 * TERN_MSEC);
	tern_tcp_close(c1, now);
	tern_sim_run(sim, now += 100 * TERN_MSEC);

	seen v = {0};
	assert_int_equal(tern_stack_conns(s, count, &v), 3);
	assert_int_equal(v.listeners, 1);
	assert_int_equal(v.records, 1);
	assert_int_equal(v.states[TERN_TCP_TIME_WAIT], 1);
	assert_int_equal(v.states[TERN_TCP_ESTABLISHED], 1);
	assert_true(v.timers >= 1); /* the TIME_WAIT's end */

	/* -K: the established one is reset, and the client hears it */
	assert_int_equal(tern_stack_abort_conn(s, v.est_id, now), 0);
	tern_sim_run(sim, now += 100 * TERN_MSEC);
	assert_int_equal(tern_tcp_state(c2), TERN_TCP_CLOSED);
	assert_int_equal(tern_tcp_error(c2), TERN_ERR_RESET);
	assert_int_equal(tern_tcp_error(s2), TERN_ERR_RESET);
	assert_int_equal(tern_stack_abort_conn(s, 999999, now), TERN_ERR_NOENT);
	assert_int_equal(tern_stack_abort_conn(s, 0, now), TERN_ERR_NOENT);

	/* a record just ends (no packet); a listener is refused */
	pick p = {0};
	tern_stack_conns(s, pick_ids, &p);
	assert_int_equal(tern_stack_abort_conn(s, p.tw, now), 0);
	assert_int_equal(tern_stack_abort_conn(s, p.tw, now), TERN_ERR_NOENT);
	assert_int_equal(tern_stack_abort_conn(s, p.listener, now),
			 TERN_ERR_INVAL);
	seen w = {0};
	tern_stack_conns(s, count, &w);
	assert_int_equal(w.records, 0);
	assert_int_equal(w.listeners, 1);
	tern_tcp_close(s2, now);
	tern_tcp_close(c2, now);
	tern_stack_free(c);
	tern_stack_free(s);
	tern_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enumerate_and_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
