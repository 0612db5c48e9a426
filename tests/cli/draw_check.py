"""tests/cli/test_draw.sh's eye: a trace read again, independently of
tern, and the SVG that `tern draw` made of it compared with it.

  draw_check.py seq TRACE[,TRACE...] SVG first|N|A:P-B:P [TIMELINE]
  draw_check.py list TRACE[,TRACE...] LIST_OUTPUT
  draw_check.py states TRACE[,TRACE...] SVG

Prints what it counted; exits 1 with the differences on stderr.
"""
import json, sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
problems = []


def load(paths):
    ev = []
    for p in paths:
        with open(p) as f:
            ev += [json.loads(line) for line in f if line.strip()]
    return ev


def pair(e):
    """The connection an event belongs to (None: a listener's, or none)."""
    if e['ev'] == 'state':
        local, remote = e['conn'].split('-')
        return None if remote == '0.0.0.0:0' else frozenset((local, remote))
    if e['ev'] == 'seg' or 'src' in e:
        return frozenset((e['src'], e['dst']))
    return None


def local(e):
    if e['ev'] == 'state':
        return e['conn'].split('-')[0]
    return e['src'] if e.get('dir') == 'tx' else e.get('dst')


def connections(ev):
    order = []
    for e in ev:
        p = pair(e)
        if p and p not in order:
            order.append(p)
    return order


def key(e):
    return (e['src'], e['dst'], tuple(sorted(e['flags'])), e['seq'],
            e['ack'], e['len'], e['win'])


def expected(ev, conn):
    """Arrows, lost and copies per run of identical segments: whatever
    arrival goes with whatever transmission, how many are left over is
    the same."""
    traced = {local(e) for e in ev if local(e)}
    runs = {}
    for i, e in enumerate(ev):
        if e['ev'] == 'seg' and pair(e) == conn:
            runs.setdefault(key(e), []).append((i + 1, e))
    arrows = lost = copies = 0
    lost_by_run = {}
    for k, run in runs.items():
        pending = sent = 0
        for _, e in run:
            if e['dir'] == 'tx':
                pending += 1
                sent += 1
                arrows += 1
            elif pending:
                pending -= 1
            else:
                arrows += 1
                copies += bool(sent) and k[0] in traced
        if k[1] in traced:
            lost += pending
            lost_by_run[k] = pending
    return runs, arrows, lost, copies, lost_by_run


def groups(svg, cls):
    return [g for g in svg.iter(NS + 'g') if cls in g.get('class', '').split()]


def check_seq(trace_paths, svg_path, which, timeline=None):
    ev = load(trace_paths)
    svg = ET.parse(svg_path).getroot()
    conns = connections(ev)
    if which == 'first':
        conn = conns[0]
    elif which.isdigit():
        conn = conns[int(which) - 1]
    else:
        conn = frozenset(which.split('-'))
    runs, arrows, lost, copies, lost_by_run = expected(ev, conn)
    segs = groups(svg, 'seg')
    if len(segs) != arrows:
        problems.append('%d seg groups, the trace has %d arrows' % (len(segs), arrows))
    lost_g = groups(svg, 'lost')
    if len(lost_g) != lost:
        problems.append('%d lost arrows, the trace has %d' % (len(lost_g), lost))
    if len(groups(svg, 'dup')) != copies:
        problems.append('%d copies drawn, the trace has %d' % (len(groups(svg, 'dup')), copies))
    # each lost arrow is a transmission of a run with that many left over
    count = {}
    for g in lost_g:
        e = ev[int(g.get('data-ev')) - 1]
        if e['ev'] != 'seg' or e['dir'] != 'tx' or pair(e) != conn:
            problems.append('lost arrow %s is not a transmission' % g.get('data-ev'))
            continue
        count[key(e)] = count.get(key(e), 0) + 1
    for k, n in lost_by_run.items():
        if count.get(k, 0) != n:
            problems.append('run %s: %d lost drawn, %d left over' % (k, count.get(k, 0), n))
    # the states written are the connection's state changes, in order
    want = [(e['host'], e['from'], e['to'], e['cause'], str(e['t']))
            for e in ev if e['ev'] == 'state' and pair(e) == conn]
    got = [(g.get('data-host'), g.get('data-from'), g.get('data-to'),
            g.get('data-cause'), g.get('data-t')) for g in groups(svg, 'state')]
    if got != want:
        problems.append('states drawn %s, the trace has %s' % (got, want))
    drops = [e for e in ev if e['ev'] == 'drop' and pair(e) == conn]
    if len(groups(svg, 'drop')) != len(drops):
        problems.append('%d drops drawn, the trace has %d' % (len(groups(svg, 'drop')), len(drops)))
    if timeline:
        check_timeline(ev, lost_g, timeline)
    return len(segs), len(lost_g)


def check_timeline(ev, lost_g, path):
    """The scenario's own timeline marks lost segments with a cross (it
    knows them by their IPv4 IDs): the same times, senders and seqs."""
    want = []
    isn = {}
    for e in ev:
        if e['ev'] == 'seg' and e['dir'] == 'tx' and e['flags'] == ['SYN']:
            isn.setdefault('client', e['seq'])
        if e['ev'] == 'seg' and e['dir'] == 'tx' and sorted(e['flags']) == ['ACK', 'SYN']:
            isn.setdefault('server', e['seq'])
    for line in open(path, encoding='utf-8'):
        if '✕' in line and 'dropped' not in line:
            who = 'client' if '─✕' in line else 'server'
            seq = line.split('seq=')[1].split()[0]
            want.append((line.split()[0], who, seq))
    got = []
    for g in lost_g:
        who = g.get('data-from')
        off = (int(g.get('data-seq')) - isn[who]) % 2**32
        name = 'J' if who == 'client' else 'K'
        got.append(('%.3f' % (int(g.get('data-t')) / 1e6), who,
                    name + ('+%d' % off if off else '')))
    if sorted(got) != sorted(want):
        problems.append('lost %s, the timeline says %s' % (got, want))


def check_list(trace_paths, list_path):
    ev = load(trace_paths)
    conns = connections(ev)
    rows = [l.split() for l in open(list_path)][1:]
    if len(rows) != len(conns):
        problems.append('--list shows %d connections, the trace has %d' % (len(rows), len(conns)))
    for i, (row, conn) in enumerate(zip(rows, conns)):
        ends = row[1].split('-')
        segs = expected(ev, conn)[1]
        if row[0] != str(i + 1) or frozenset(ends) != conn or int(row[-3]) != segs:
            problems.append('--list row %s, expected %d %s with %d segments' % (row, i + 1, sorted(conn), segs))


def check_states(trace_paths, svg_path):
    ev = load(trace_paths)
    svg = ET.parse(svg_path).getroot()
    want = {}
    for e in ev:
        if e['ev'] == 'state':
            want[(e['from'], e['to'])] = want.get((e['from'], e['to']), 0) + 1
    shown = {}
    for g in groups(svg, 'edge'):
        k = (g.get('data-from'), g.get('data-to'))
        if int(g.get('data-count')) != want.get(k, 0):
            problems.append('edge %s shows %s, the traces took it %d times' % (k, g.get('data-count'), want.get(k, 0)))
        shown[k] = True
    others = ' '.join(t.text or '' for g in groups(svg, 'others') for t in g.iter(NS + 'text'))
    for (f, t), n in want.items():
        if (f, t) not in shown and '%s → %s  %d' % (f, t, n) not in others:
            problems.append('%s → %s (%d times) is not shown' % (f, t, n))
    return sum(want.values())


what = sys.argv[1]
if what == 'seq':
    paths = sys.argv[2].split(',')
    n, lost = check_seq(paths, sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    print(n, lost)
elif what == 'list':
    check_list(sys.argv[2].split(','), sys.argv[3])
elif what == 'states':
    print(check_states(sys.argv[2].split(','), sys.argv[3]))
elif what == 'xml':
    ET.parse(sys.argv[2])
for p in problems:
    print('  ' + p, file=sys.stderr)
sys.exit(1 if problems else 0)
