/* Names and text forms: errors, addresses, flags, counters. Pure data. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tern/stats.h>
#include <tern/types.h>
#include <tern/wire.h>

const char *tern_strerror(int err)
{
	switch (err) {
	case TERN_OK:
		return "success";
#define TERN_ERR_TEXT(name, code, text)                                        \
	case TERN_ERR_##name:                                                  \
		return text;
		TERN_ERRORS(TERN_ERR_TEXT)
#undef TERN_ERR_TEXT
	}
	return "unknown error";
}

int tern_err_to_errno(int err)
{
	static const int map[] = {
		[-TERN_ERR_INVAL] = EINVAL,
		[-TERN_ERR_NOMEM] = ENOMEM,
		[-TERN_ERR_AGAIN] = EAGAIN,
		[-TERN_ERR_REFUSED] = ECONNREFUSED,
		[-TERN_ERR_RESET] = ECONNRESET,
		[-TERN_ERR_TIMEDOUT] = ETIMEDOUT,
		[-TERN_ERR_PIPE] = EPIPE,
		[-TERN_ERR_ADDRINUSE] = EADDRINUSE,
		[-TERN_ERR_NOTCONN] = ENOTCONN,
		[-TERN_ERR_ISCONN] = EISCONN,
		[-TERN_ERR_CLOSING] = ESHUTDOWN,
		[-TERN_ERR_STATE] = EINVAL,
		[-TERN_ERR_ADDRNOTAVAIL] = EADDRNOTAVAIL,
		[-TERN_ERR_NOBUFS] = ENOBUFS,
		[-TERN_ERR_ALREADY] = EALREADY,
		[-TERN_ERR_ABORTED] = ECONNABORTED,
		[-TERN_ERR_IO] = EIO,
		[-TERN_ERR_NOENT] = ENOENT,
		[-TERN_ERR_PERM] = EPERM,
		[-TERN_ERR_BUSY] = EBUSY,
		[-TERN_ERR_INPROGRESS] = EINPROGRESS,
		[-TERN_ERR_NOTSUP] = EOPNOTSUPP,
		[-TERN_ERR_HOSTUNREACH] = EHOSTUNREACH,
		[-TERN_ERR_NETUNREACH] = ENETUNREACH,
	};
	if (err >= 0)
		return 0;
	if ((size_t)-err >= sizeof(map) / sizeof(map[0]))
		return EINVAL;
	return map[-err];
}

int tern_addr_parse(const char *text, uint32_t *addr)
{
	uint32_t v = 0;
	int parts = 0;
	const char *p = text;

	while (parts < 4) {
		unsigned n = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || n > 255)
			return TERN_ERR_INVAL;
		v = (v << 8) | n;
		parts++;
		if (parts < 4 && *p++ != '.')
			return TERN_ERR_INVAL;
	}
	if (*p != '\0')
		return TERN_ERR_INVAL;
	*addr = v;
	return 0;
}

char *tern_addr_format(uint32_t addr, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(addr >> 24),
		 (unsigned)(addr >> 16) & 255, (unsigned)(addr >> 8) & 255,
		 (unsigned)addr & 255);
	return buf;
}

char *tern_tcp_flags_format(uint8_t flags, char *buf, size_t size)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{TERN_TCP_SYN, "SYN"}, {TERN_TCP_FIN, "FIN"},
		{TERN_TCP_RST, "RST"}, {TERN_TCP_PSH, "PSH"},
		{TERN_TCP_URG, "URG"}, {TERN_TCP_ECE, "ECE"},
		{TERN_TCP_CWR, "CWR"}, {TERN_TCP_ACK, "ACK"},
	};
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		int n = snprintf(buf + used, size - used, "%s%s",
				 used ? "|" : "", names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

const char *tern_drop_reason_name(int reason)
{
	static const char *const names[] = {[TERN_DROP_NONE] = "none",
#define TERN_DROP_TEXT(name, text) [TERN_DROP_##name] = text,
					    TERN_DROP_REASONS(TERN_DROP_TEXT)
#undef TERN_DROP_TEXT
	};
	if (reason < 0 || reason >= TERN_DROP_COUNT)
		return "unknown";
	return names[reason];
}

const char *tern_counter_name(int counter)
{
	static const char *const names[] = {
#define TERN_COUNTER_TEXT(name, text) [TERN_CTR_##name] = text,
		TERN_COUNTERS(TERN_COUNTER_TEXT)
#undef TERN_COUNTER_TEXT
	};
	if (counter < 0 || counter >= TERN_CTR_COUNT)
		return "unknown";
	return names[counter];
}
