/* SPDX-License-Identifier: MIT */
/*
 * escape()'s contract, written independently of validate.c, shared by the
 * unit tests and the fuzz harness: out is within size and NUL-terminated,
 * printable ASCII for messages, and either the whole escaped text or a
 * prefix of it cut on an escape boundary followed by "...", keeping at
 * least size - 8 bytes. full and boundary must hold 4 * strlen(text) + 1
 * bytes each, boundary zeroed. Returns 1 if out keeps the contract.
 */
#ifndef JAIL_AI_ESCAPE_CONTRACT_H
#define JAIL_AI_ESCAPE_CONTRACT_H

#include <stdio.h>
#include <string.h>

static int escape_contract(const char *text, const char *out, size_t size, int json, char *full,
			   char *boundary)
{
	size_t len = strnlen(out, size), i, used = 0;

	if (len >= size)
		return 0;
	for (i = 0; !json && i < len; i++)
		if (out[i] < ' ' || out[i] > '~')
			return 0;
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		boundary[used] = 1;
		if (json && (c == '"' || c == '\\'))
			full[used++] = '\\';
		if (json || (c > ' ' && c <= '~' && c != '\\' && c != '\''))
			full[used++] = (char)c;
		else
			used += (size_t)snprintf(full + used, 5, "\\x%02x", c);
	}
	boundary[used] = 1;
	full[used] = '\0';
	if (strcmp(out, full) == 0)
		return 1;
	return len >= 3 && strcmp(out + len - 3, "...") == 0 && len - 3 < used &&
	       boundary[len - 3] && strncmp(out, full, len - 3) == 0 && len - 3 + 8 >= size;
}

#endif
