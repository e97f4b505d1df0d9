// SPDX-License-Identifier: MIT
/*
 * stats RAW q KEY        prints "N MEDIAN P25 P75 MIN MAX" of KEY's values
 * stats RAW r KEYA KEYB  prints "RATIO P25 P75 N P": RATIO is the ratio of
 *                        the medians of A and B; P25 and P75 are the
 *                        quartiles of the per-round ratios A/B (pairs from
 *                        the same interleaved round), N the number of
 *                        pairs, P the two-sided sign test's p-value for
 *                        "A and B differ" (ties dropped): small P means
 *                        the difference is measurable
 *
 * RAW holds lines "KEY ROUND VALUE". Quantiles interpolate linearly
 * between order statistics (Hyndman-Fan type 7, as R and numpy default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES 4096

struct series {
	int rounds[MAX_VALUES];
	double values[MAX_VALUES];
	size_t n;
};

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (pos - (double)i) * (sorted[i + 1] - sorted[i]);
}

/* P(X <= k) + P(X >= n - k) for X ~ Binomial(n, 1/2), k <= n / 2 */
static double sign_test(size_t above, size_t below)
{
	size_t n = above + below, k = above < below ? above : below, i;
	double term = 1, tail = 0;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		term /= 2;
	for (i = 0; i <= k; i++) {
		tail += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return 2 * tail > 1 ? 1 : 2 * tail;
}

static void load(const char *path, const char *key, struct series *s)
{
	char line[256], k[128], *end;
	double v;
	long r;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(1);
	}
	s->n = 0;
	while (fgets(line, sizeof(line), f)) {
		end = strchr(line, ' ');
		if (!end || (size_t)(end - line) >= sizeof(k))
			continue;
		memcpy(k, line, (size_t)(end - line));
		k[end - line] = '\0';
		if (strcmp(k, key) != 0 || s->n == MAX_VALUES)
			continue;
		r = strtol(end + 1, &end, 10);
		v = strtod(end, &end);
		if (*end != '\n' && *end != '\0')
			continue;
		s->rounds[s->n] = (int)r;
		s->values[s->n++] = v;
	}
	(void)fclose(f);
	if (s->n == 0) {
		fprintf(stderr, "stats: no values for %s\n", key);
		exit(1);
	}
}

static double median_of(const struct series *s)
{
	static double sorted[MAX_VALUES];

	memcpy(sorted, s->values, s->n * sizeof(double));
	qsort(sorted, s->n, sizeof(double), compare);
	return quantile(sorted, s->n, 0.5);
}

int main(int argc, char **argv)
{
	static struct series a, b;
	static double ratios[MAX_VALUES];
	size_t i, j, n = 0, above = 0, below = 0;

	if (argc == 4 && strcmp(argv[2], "q") == 0) {
		load(argv[1], argv[3], &a);
		qsort(a.values, a.n, sizeof(double), compare);
		printf("%zu %g %g %g %g %g\n", a.n,
		       quantile(a.values, a.n, 0.5),
		       quantile(a.values, a.n, 0.25),
		       quantile(a.values, a.n, 0.75), a.values[0],
		       a.values[a.n - 1]);
		return 0;
	}
	if (argc == 5 && strcmp(argv[2], "r") == 0) {
		load(argv[1], argv[3], &a);
		load(argv[1], argv[4], &b);
		for (i = 0; i < a.n; i++)
			for (j = 0; j < b.n; j++)
				if (a.rounds[i] == b.rounds[j] &&
				    b.values[j] != 0) {
					ratios[n++] = a.values[i] / b.values[j];
					break;
				}
		if (n == 0) {
			fprintf(stderr, "stats: no paired rounds\n");
			return 1;
		}
		for (i = 0; i < n; i++) {
			above += ratios[i] > 1;
			below += ratios[i] < 1;
		}
		qsort(ratios, n, sizeof(double), compare);
		printf("%g %g %g %zu %g\n", median_of(&a) / median_of(&b),
		       quantile(ratios, n, 0.25), quantile(ratios, n, 0.75), n,
		       sign_test(above, below));
		return 0;
	}
	fprintf(stderr, "usage: stats RAW q KEY | stats RAW r KEYA KEYB\n");
	return 2;
}
