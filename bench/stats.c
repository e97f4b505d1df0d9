// SPDX-License-Identifier: MIT
/*
 * stats RAW q KEY        prints "N MEDIAN P25 P75 MIN MAX" of KEY's values
 * stats RAW r KEYA KEYB  prints "RATIO PAIRED LO HI N P": RATIO is the ratio
 *                        of the medians of A and B; PAIRED the median of
 *                        the per-round ratios A/B (pairs from the same
 *                        interleaved round), LO..HI its distribution-free
 *                        95% confidence interval (order statistics), N the
 *                        number of pairs, P the two-sided sign test's
 *                        p-value for "A and B differ" (ties dropped):
 *                        small P means the difference is measurable
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

/* P(X <= k) for X ~ Binomial(n, 1/2) */
static double binomial_cdf(size_t n, size_t k)
{
	double term = 1, sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		term /= 2;
	for (i = 0; i <= k && i <= n; i++) {
		sum += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return sum;
}

static double sign_test(size_t above, size_t below)
{
	size_t n = above + below, k = above < below ? above : below;
	double p = n ? 2 * binomial_cdf(n, k) : 1;

	return p > 1 ? 1 : p;
}

/* Index of the lower bound of the median's 95% interval in n sorted
 * values, 0-based: with x(1..n), the interval is x(k)..x(n+1-k) for the
 * largest k with P(X <= k - 1) <= 2.5%; for n = 30, x(10)..x(21). */
static size_t median_interval(size_t n)
{
	size_t k = 0;

	while (k + 1 < n / 2 && binomial_cdf(n, k) <= 0.025)
		k++;
	return k ? k - 1 : 0;
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
	size_t i, j, n = 0, above = 0, below = 0, lo;

	if (argc == 4 && strcmp(argv[2], "q") == 0) {
		load(argv[1], argv[3], &a);
		qsort(a.values, a.n, sizeof(double), compare);
		printf("%zu %g %g %g %g %g\n", a.n, quantile(a.values, a.n, 0.5),
		       quantile(a.values, a.n, 0.25), quantile(a.values, a.n, 0.75), a.values[0],
		       a.values[a.n - 1]);
		return 0;
	}
	if (argc == 5 && strcmp(argv[2], "r") == 0) {
		load(argv[1], argv[3], &a);
		load(argv[1], argv[4], &b);
		for (i = 0; i < a.n; i++)
			for (j = 0; j < b.n; j++)
				if (a.rounds[i] == b.rounds[j] && b.values[j] != 0) {
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
		lo = median_interval(n);
		printf("%g %g %g %g %zu %g\n", median_of(&a) / median_of(&b),
		       quantile(ratios, n, 0.5), ratios[lo], ratios[n - 1 - lo], n,
		       sign_test(above, below));
		return 0;
	}
	fprintf(stderr, "usage: stats RAW q KEY | stats RAW r KEYA KEYB\n");
	return 2;
}
