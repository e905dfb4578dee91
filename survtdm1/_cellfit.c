/*
 * Cox fits from counts by cell and event time, compiled: the arithmetic of
 * survtdm1.cox_cells.CellProblem and the Newton loop of survtdm1.cox.newton_fit.
 *
 * A problem is, at each of B event times, the number at risk R[b, c] and the
 * number of events D[b, c] in each of C cells, and a design Z (C x p, centred)
 * giving every row of a cell the same covariates. The log partial likelihood
 * with Efron's or Breslow's ties, its score and its information are sums over
 * event times of a few numbers per time, so an evaluation costs microseconds
 * where the numpy one costs array overhead. survtdm1.cox_cells keeps the numpy
 * evaluation, which tests compare with this one; the package uses it where this
 * module was not built.
 *
 * Arrays arrive as C-contiguous float64 buffers (the buffer protocol: no numpy
 * headers are needed to build). Results are written into buffers the caller
 * allocates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* r^k, k = 0..16: truncation below 0.05^17 ~ 1e-22 relative. SERIES_TERMS in
 * survtdm1/cox_cells.py; its table of powers has TERMS + 3 columns, and a table of
 * another width is refused. */
#define TERMS 16

typedef struct {
    const double *R;       /* B x C, at risk */
    const double *D;       /* B x C, events */
    const double *Z;       /* C x p, the design, centred */
    const double *present; /* C, 1 for a cell with rows, else 0 */
    Py_ssize_t B, C, p;
    int efron;
    /* Efron's sums of large tied groups as power series (see TiedSeries in
     * survtdm1/cox_cells.py): power[b * (TERMS + 3) + k] = S_k(d) = sum_{l<d} l^k for
     * the event times b that may use them, 0 elsewhere; max_ratio bounds (d - 1) r */
    const double *power;
    double max_ratio;
    double *cell_events; /* C: events per cell */
    double *work;        /* scratch: 4 C + 2 p */
} Problem;

/* The rules of survtdm1.newton, passed from Python so that there is one set. */
typedef struct {
    long max_iter, max_halvings;
    double step_tol, loglik_slack, settle_tol;
} Rules;

/* Efron's sums over the d tied events of one time, den_l = T0 (1 - l r) with
 * r = F0 / (d T0): log den, 1/den, f/den, 1/den^2, f/den^2, f^2/den^2 (f = l/d) as
 * power series in r with S_k = sum_{l<d} l^k (all terms positive; Horner, highest
 * power first). */
static void series_sums(const double *S, double d, double T0, double F0, double *logs,
                        double *Sa, double *Sb, double *Saa, double *Sab, double *Sbb)
{
    const double r = F0 / (d * T0);
    double log_part = S[TERMS] / TERMS, a = S[TERMS], b = S[TERMS + 1];
    double aa = (TERMS + 1) * S[TERMS], ab = (TERMS + 1) * S[TERMS + 1];
    double bb = (TERMS + 1) * S[TERMS + 2];
    int k;
    for (k = TERMS - 1; k >= 0; k--) {
        log_part = log_part * r + (k ? S[k] / k : 0.0);
        a = a * r + S[k];
        b = b * r + S[k + 1];
        aa = aa * r + (k + 1) * S[k];
        ab = ab * r + (k + 1) * S[k + 1];
        bb = bb * r + (k + 1) * S[k + 2];
    }
    *logs = d * log(T0) - log_part;
    *Sa = a / T0;
    *Sb = b / (d * T0);
    *Saa = aa / (T0 * T0);
    *Sab = ab / (d * T0 * T0);
    *Sbb = bb / (d * d * T0 * T0);
}

/* The logs of the Efron denominators summed as the log of their product, kept as
 * mantissa x 2^exponent (a log per event costs more than all the rest of its time's
 * arithmetic): the same sum to rounding. A factor outside 2^-400..2^400 has its log
 * added on its own. */
typedef struct {
    double mantissa, logs;
    long exponent;
} Product;

static inline void product_times(Product *product, double x)
{
    if (x > 0x1p-400 && x < 0x1p400) {
        product->mantissa *= x;
        if (!(product->mantissa > 0x1p-600 && product->mantissa < 0x1p600)) {
            int e;
            product->mantissa = frexp(product->mantissa, &e);
            product->exponent += e;
        }
    } else {
        product->logs += log(x);
    }
}

static inline double product_log(const Product *product)
{
    return log(product->mantissa) + (double)product->exponent * M_LN2 + product->logs;
}

/* Models of up to this many coefficients are evaluated by copies of evaluate_with
 * compiled for their p, with their sums in local arrays (in registers) */
#define LOCAL_P 8

/* Log-likelihood, score and information at beta. Returns 0, or 1 (loglik -inf,
 * score and information NaN) when a denominator is not positive. With local, p
 * is a constant of the inlined copy and the sums per time (T1, F1) and the score
 * and information are summed in local arrays, copied out at the end: the same
 * operations in the same order, which the compiler may keep in registers (it
 * cannot for arrays that might overlap the inputs). */
static inline __attribute__((always_inline)) int
evaluate_with(const Problem *pr, const double *beta, double *loglik, double *score_out,
              double *info_out, const Py_ssize_t p, const int local)
{
    const Py_ssize_t B = pr->B, C = pr->C;
    double sums[2 * LOCAL_P + LOCAL_P + LOCAL_P * LOCAL_P];
    double *eta = pr->work, *w = eta + C, *T1 = w + C, *F1 = T1 + p;
    double *on_rows = F1 + p, *on_events = on_rows + C;
    double *score = score_out, *info = info_out;
    double shift = -INFINITY, ll = 0.0;
    Product denominators = {1.0, 0.0, 0};
    Py_ssize_t b, c, j, k, l;
    if (local) {
        T1 = sums;
        F1 = T1 + p;
        score = F1 + p;
        info = score + p;
    }

    for (c = 0; c < C; c++) {
        double s = 0.0;
        for (j = 0; j < p; j++)
            s += pr->Z[c * p + j] * beta[j];
        eta[c] = s;
        if (pr->present[c] != 0.0 && s > shift)
            shift = s;
    }
    if (shift == -INFINITY)
        shift = 0.0; /* no cell with rows: no event either */
    /* relative to the largest linear predictor of a cell with rows: weights <= 1,
     * and 0 for cells without rows whatever their predictor */
    for (c = 0; c < C; c++) {
        on_rows[c] = on_events[c] = 0.0;
        if (pr->present[c] != 0.0) {
            eta[c] -= shift;
            w[c] = exp(eta[c]);
            ll += pr->cell_events[c] * eta[c];
        } else {
            w[c] = 0.0;
        }
    }
    memset(score, 0, sizeof(double) * p);
    memset(info, 0, sizeof(double) * p * p);
    for (b = 0; b < B; b++) {
        const double *Rb = pr->R + b * C, *Db = pr->D + b * C;
        double T0 = 0.0, F0 = 0.0, d = 0.0;
        double logs = 0.0, Sa = 0.0, Sb = 0.0, Saa = 0.0, Sab = 0.0, Sbb = 0.0;
        for (c = 0; c < C; c++)
            d += Db[c];
        if (d == 0.0)
            continue;
        if (d == 1.0 || !pr->efron) {
            /* one event, or Breslow's ties: no terms in f = l/d, so the events' weights
             * (F0, F1) enter with the factor 0 and are left out, as are their sums
             * (Sb, Sab, Sbb): the same numbers, with half the work per time */
            memset(T1, 0, sizeof(double) * p);
            for (c = 0; c < C; c++) {
                const double r = Rb[c] * w[c];
                const double *z = pr->Z + c * p;
                if (r == 0.0)
                    continue;
                T0 += r;
                for (j = 0; j < p; j++)
                    T1[j] += r * z[j];
            }
            if (!(T0 > 0.0))
                goto invalid;
            if (pr->efron) { /* the one term of Efron's loop below, l = 0 */
                product_times(&denominators, T0);
                Sa = 1.0 / T0;
                Saa = Sa * Sa;
            } else {
                if (d == 1.0)
                    product_times(&denominators, T0);
                else
                    ll -= d * log(T0);
                Sa = d / T0;
                Saa = Sa / T0;
            }
            for (c = 0; c < C; c++)
                on_rows[c] += Sa * Rb[c];
            for (j = 0; j < p; j++) {
                score[j] += T1[j] * Sa;
                for (k = 0; k <= j; k++)
                    info[j * p + k] -= T1[j] * T1[k] * Saa;
            }
            continue;
        }
        memset(T1, 0, sizeof(double) * 2 * p);
        for (c = 0; c < C; c++) {
            const double r = Rb[c] * w[c], e = Db[c] * w[c];
            const double *z = pr->Z + c * p;
            if (r == 0.0)
                continue; /* a cell's events are among its rows at risk */
            T0 += r;
            F0 += e;
            for (j = 0; j < p; j++) {
                T1[j] += r * z[j];
                F1[j] += e * z[j];
            }
        }
        if (pr->efron && pr->power[b * (TERMS + 3)] > 0.0 &&
            (d - 1.0) * F0 / (d * T0) <= pr->max_ratio) {
            series_sums(pr->power + b * (TERMS + 3), d, T0, F0, &logs, &Sa, &Sb, &Saa, &Sab,
                        &Sbb);
        } else if (pr->efron) {
            /* the l-th of d tied events: denominator T0 - (l/d) F0, mean
             * (T1 - (l/d) F1) / den; a = 1/den and f a summed, and their products */
            const long n = (long)d;
            for (l = 0; l < n; l++) {
                const double f = (double)l / d, den = T0 - f * F0;
                double a, fa;
                if (!(den > 0.0))
                    goto invalid;
                product_times(&denominators, den);
                a = 1.0 / den;
                fa = f * a;
                Sa += a;
                Sb += fa;
                Saa += a * a;
                Sab += a * fa;
                Sbb += fa * fa;
            }
        } else {
            if (!(T0 > 0.0))
                goto invalid;
            logs = d * log(T0);
            Sa = d / T0;
            Saa = Sa / T0;
        }
        ll -= logs;
        /* second moments enter through per-cell weights, summed after the loop */
        for (c = 0; c < C; c++) {
            on_rows[c] += Sa * Rb[c];
            on_events[c] += Sb * Db[c];
        }
        /* the means: summed into the score, their products into the information */
        for (j = 0; j < p; j++) {
            score[j] += T1[j] * Sa - F1[j] * Sb;
            for (k = 0; k <= j; k++)
                info[j * p + k] -= T1[j] * T1[k] * Saa -
                                   (T1[j] * F1[k] + F1[j] * T1[k]) * Sab + F1[j] * F1[k] * Sbb;
        }
    }
    for (c = 0; c < C; c++) {
        const double weight = w[c] * (on_rows[c] - on_events[c]);
        const double *z = pr->Z + c * p;
        if (weight == 0.0)
            continue;
        for (j = 0; j < p; j++)
            for (k = 0; k <= j; k++)
                info[j * p + k] += weight * z[j] * z[k];
    }
    /* score: the events' covariates less the summed means */
    for (j = 0; j < p; j++) {
        double s = 0.0;
        for (c = 0; c < C; c++)
            s += pr->cell_events[c] * pr->Z[c * p + j];
        score[j] = s - score[j];
        for (k = 0; k < j; k++)
            info[k * p + j] = info[j * p + k];
    }
    if (local) {
        memcpy(score_out, score, sizeof(double) * p);
        memcpy(info_out, info, sizeof(double) * p * p);
    }
    *loglik = ll - product_log(&denominators);
    return 0;
invalid:
    *loglik = -INFINITY;
    for (j = 0; j < p; j++)
        score_out[j] = NAN;
    for (j = 0; j < p * p; j++)
        info_out[j] = NAN;
    return 1;
}

static int evaluate(const Problem *pr, const double *beta, double *loglik, double *score,
                    double *info)
{
/* a copy of evaluate_with compiled for P coefficients */
#define EVALUATE_FOR(P)                                                                     \
    case P:                                                                                 \
        return evaluate_with(pr, beta, loglik, score, info, P, 1);
    switch (pr->p) {
        EVALUATE_FOR(1) EVALUATE_FOR(2) EVALUATE_FOR(3) EVALUATE_FOR(4)
        EVALUATE_FOR(5) EVALUATE_FOR(6) EVALUATE_FOR(7) EVALUATE_FOR(8)
    default: /* LOCAL_P = 8 */
        return evaluate_with(pr, beta, loglik, score, info, pr->p, 0);
    }
#undef EVALUATE_FOR
}

/* info^-1 score by Gaussian elimination with partial pivoting (as LAPACK's gesv).
 * Returns 1 for an exactly singular matrix (numpy raises there and the Python
 * loop takes least squares: the caller then falls back to it). */
static int solve(Py_ssize_t p, const double *info, const double *score, double *step,
                 double *lu)
{
    Py_ssize_t i, j, k;
    if (p == 1) {
        step[0] = score[0] / info[0]; /* 0 gives inf or NaN: the loop stops */
        return 0;
    }
    memcpy(lu, info, sizeof(double) * p * p);
    memcpy(step, score, sizeof(double) * p);
    for (k = 0; k < p; k++) {
        Py_ssize_t pivot = k;
        double best = fabs(lu[k * p + k]);
        for (i = k + 1; i < p; i++) {
            if (fabs(lu[i * p + k]) > best) {
                best = fabs(lu[i * p + k]);
                pivot = i;
            }
        }
        if (best == 0.0)
            return 1;
        if (pivot != k) {
            for (j = 0; j < p; j++) {
                const double t = lu[k * p + j];
                lu[k * p + j] = lu[pivot * p + j];
                lu[pivot * p + j] = t;
            }
            {
                const double t = step[k];
                step[k] = step[pivot];
                step[pivot] = t;
            }
        }
        for (i = k + 1; i < p; i++) {
            const double factor = lu[i * p + k] / lu[k * p + k];
            if (factor == 0.0)
                continue;
            for (j = k; j < p; j++)
                lu[i * p + j] -= factor * lu[k * p + j];
            step[i] -= factor * step[k];
        }
    }
    for (k = p - 1; k >= 0; k--) {
        double s = step[k];
        for (j = k + 1; j < p; j++)
            s -= lu[k * p + j] * step[j];
        step[k] = s / lu[k * p + k];
    }
    return 0;
}

/* The inverse of a symmetric information matrix as survtdm1.newton.invert gives it:
 * NaN where it is not finite or its condition number (the ratio of its largest to
 * its smallest absolute eigenvalue, which for a symmetric matrix is numpy's 2-norm
 * cond) exceeds cond_limit. Cyclic Jacobi rotations; work holds 2 p p doubles. */
static void invert(Py_ssize_t p, const double *info, double *var, double cond_limit,
                   double *work)
{
    double *A = work, *V = work + p * p, largest = 0.0, smallest = INFINITY, last_off = 0.0;
    Py_ssize_t i, j, k, sweep;
    for (i = 0; i < p * p; i++) {
        if (!isfinite(info[i]))
            goto singular;
    }
    if (p == 1) {
        if (info[0] == 0.0)
            goto singular;
        var[0] = 1.0 / info[0];
        return;
    }
    memcpy(A, info, sizeof(double) * p * p);
    for (i = 0; i < p; i++)
        for (j = 0; j < p; j++)
            V[i * p + j] = i == j ? 1.0 : 0.0;
    for (sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, total = 0.0;
        for (i = 0; i < p; i++)
            for (j = 0; j < p; j++) {
                total += A[i * p + j] * A[i * p + j];
                if (i != j)
                    off += A[i * p + j] * A[i * p + j];
            }
        /* diagonal to rounding (off-diagonal below 1e-15 of the whole); or a sweep that
         * no longer shrinks the off-diagonal: rotations of rounding noise, which would
         * otherwise go on to the hundredth sweep */
        if (off <= 1e-30 * total || (sweep > 0 && off >= last_off))
            break;
        last_off = off;
        for (i = 0; i < p - 1; i++) {
            for (j = i + 1; j < p; j++) {
                const double aij = A[i * p + j];
                double theta, t, c, s;
                if (aij == 0.0)
                    continue;
                theta = (A[j * p + j] - A[i * p + i]) / (2.0 * aij);
                t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                c = 1.0 / sqrt(t * t + 1.0);
                s = t * c;
                for (k = 0; k < p; k++) { /* columns i and j */
                    const double ki = A[k * p + i], kj = A[k * p + j];
                    A[k * p + i] = c * ki - s * kj;
                    A[k * p + j] = s * ki + c * kj;
                }
                for (k = 0; k < p; k++) { /* rows i and j */
                    const double ik = A[i * p + k], jk = A[j * p + k];
                    A[i * p + k] = c * ik - s * jk;
                    A[j * p + k] = s * ik + c * jk;
                }
                for (k = 0; k < p; k++) {
                    const double ki = V[k * p + i], kj = V[k * p + j];
                    V[k * p + i] = c * ki - s * kj;
                    V[k * p + j] = s * ki + c * kj;
                }
            }
        }
    }
    for (i = 0; i < p; i++) {
        largest = fmax(largest, fabs(A[i * p + i]));
        smallest = fmin(smallest, fabs(A[i * p + i]));
    }
    if (!(smallest > 0.0) || !(largest / smallest <= cond_limit))
        goto singular;
    for (i = 0; i < p; i++)
        for (j = 0; j <= i; j++) {
            double sum = 0.0;
            for (k = 0; k < p; k++)
                sum += V[i * p + k] * V[j * p + k] / A[k * p + k];
            var[i * p + j] = var[j * p + i] = sum;
        }
    return;
singular:
    for (i = 0; i < p * p; i++)
        var[i] = NAN;
}

/* Whether a fit's estimate and variance are usable, as survtdm1.newton.diverged
 * judges them (there, the opposite): every |coefficient| at most max_coef, and the
 * variance finite with a positive diagonal. */
static int usable(Py_ssize_t p, const double *beta, const double *var, double max_coef)
{
    Py_ssize_t j;
    for (j = 0; j < p; j++)
        if (fabs(beta[j]) > max_coef)
            return 0;
    for (j = 0; j < p * p; j++)
        if (!isfinite(var[j]))
            return 0;
    for (j = 0; j < p; j++)
        if (var[j * p + j] <= 0.0)
            return 0;
    return 1;
}

static int falls(double loglik, double new_loglik, const Rules *rules)
{
    return !isfinite(new_loglik) ||
           new_loglik < loglik - rules->loglik_slack * fmax(1.0, fabs(loglik));
}

/* The loop of survtdm1.cox.newton_fit. beta holds the start and receives the
 * estimate; info the information there. Returns -1 (singular step: fall back)
 * or the number of iterations; *converged and the log-likelihoods are set. */
static long newton(const Problem *pr, const Rules *rules, double *beta, double *info,
                   double *loglik, double *loglik_start, int *converged)
{
    const Py_ssize_t p = pr->p;
    double *buffer = malloc(sizeof(double) * (5 * p + 2 * p * p));
    double *score, *step, *trial, *trial_score, *trial_info, *lu, ll, trial_ll = 0.0;
    long iterations = 0, halvings = 0;
    Py_ssize_t j;
    if (buffer == NULL)
        return -2;
    score = buffer;
    step = score + p;
    trial = step + p;
    trial_score = trial + p;
    lu = trial_score + p;
    trial_info = lu + p * p;
    *converged = 0;
    evaluate(pr, beta, &ll, score, info);
    *loglik_start = ll;
    while (iterations < rules->max_iter) {
        double largest = 0.0, change;
        int finite = 1, accepted = 0;
        if (solve(p, info, score, step, lu)) {
            free(buffer);
            return -1;
        }
        for (j = 0; j < p; j++) {
            finite &= isfinite(step[j]) != 0;
            largest = fmax(largest, fabs(step[j]));
        }
        if (!finite)
            break;
        iterations++;
        if (largest < rules->step_tol) {
            double gain = 0.0;
            for (j = 0; j < p; j++) {
                beta[j] += step[j];
                gain += score[j] * step[j];
            }
            ll += 0.5 * gain;
            *converged = 1;
            break;
        }
        /* newton.halve: beta + step, the step halved while the log-likelihood falls */
        for (halvings = 0; halvings <= rules->max_halvings; halvings++) {
            for (j = 0; j < p; j++)
                trial[j] = beta[j] + step[j];
            evaluate(pr, trial, &trial_ll, trial_score, trial_info);
            if (!falls(ll, trial_ll, rules)) {
                accepted = 1;
                break;
            }
            for (j = 0; j < p; j++)
                step[j] /= 2.0;
        }
        if (!accepted)
            break; /* no better point along the step (a diverging fit): stop here */
        change = fabs(trial_ll - ll);
        ll = trial_ll;
        memcpy(beta, trial, sizeof(double) * p);
        memcpy(score, trial_score, sizeof(double) * p);
        memcpy(info, trial_info, sizeof(double) * p * p);
        if (halvings > 0 && change < rules->settle_tol * fmax(1.0, fabs(ll))) {
            *converged = 1;
            break;
        }
    }
    *loglik = ll;
    free(buffer);
    return iterations;
}

/* Buffers of float64 with the sizes a problem needs; 0 on success. */
static int check_size(const Py_buffer *view, Py_ssize_t count, const char *name)
{
    if (view->len != (Py_ssize_t)sizeof(double) * count) {
        PyErr_Format(PyExc_ValueError, "%s has %zd bytes, expected %zd doubles", name,
                     view->len, count);
        return -1;
    }
    return 0;
}

static int setup(Problem *pr, Py_buffer *R, Py_buffer *D, Py_buffer *Z, Py_buffer *present,
                 Py_buffer *power, Py_ssize_t B, Py_ssize_t C, Py_ssize_t p, int efron,
                 double max_ratio)
{
    Py_ssize_t b, c;
    if (B < 0 || C < 1 || p < 1 || check_size(R, B * C, "R") || check_size(D, B * C, "D") ||
        check_size(Z, C * p, "Z") || check_size(present, C, "present") ||
        check_size(power, B * (TERMS + 3), "power")) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "bad problem sizes");
        return -1;
    }
    pr->R = R->buf;
    pr->D = D->buf;
    pr->Z = Z->buf;
    pr->present = present->buf;
    pr->power = power->buf;
    pr->max_ratio = max_ratio;
    pr->B = B;
    pr->C = C;
    pr->p = p;
    pr->efron = efron;
    pr->cell_events = calloc((size_t)(5 * C + 2 * p), sizeof(double));
    if (pr->cell_events == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    pr->work = pr->cell_events + C;
    for (b = 0; b < B; b++)
        for (c = 0; c < C; c++)
            pr->cell_events[c] += pr->D[b * C + c];
    return 0;
}

static void release(Py_buffer *views, int count)
{
    int i;
    for (i = 0; i < count; i++)
        PyBuffer_Release(&views[i]);
}

PyDoc_STRVAR(fit_doc,
             "fit(R, D, Z, present, power, B, C, p, efron, max_ratio, beta, info, var, "
             "max_iter, max_halvings, step_tol, loglik_slack, settle_tol, cond_limit, "
             "max_coef)\n\n"
             "Newton-Raphson with step halving from beta (overwritten with the estimate); info "
             "receives the information there and var its inverse (NaN beyond cond_limit). "
             "Returns (iterations, converged, loglik, loglik_start, usable); iterations is -1 "
             "where a step met an exactly singular information matrix; usable is 0 where a "
             "|coefficient| exceeds max_coef or the variance is not finite with a positive "
             "diagonal (survtdm1.newton.diverged).");

static PyObject *fit(PyObject *self, PyObject *args)
{
    Py_buffer views[8];
    Py_ssize_t B, C, p;
    int efron, converged = 0, ok = 0;
    Rules rules;
    Problem pr;
    long iterations;
    double loglik = 0.0, loglik_start = 0.0, max_ratio, cond_limit, max_coef, *work;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*nnnpdw*w*w*llddddd", &views[0], &views[1],
                          &views[2], &views[3], &views[4], &B, &C, &p, &efron, &max_ratio,
                          &views[5], &views[6], &views[7], &rules.max_iter,
                          &rules.max_halvings, &rules.step_tol, &rules.loglik_slack,
                          &rules.settle_tol, &cond_limit, &max_coef))
        return NULL;
    if (setup(&pr, &views[0], &views[1], &views[2], &views[3], &views[4], B, C, p, efron,
              max_ratio) ||
        check_size(&views[5], p, "beta") || check_size(&views[6], p * p, "info") ||
        check_size(&views[7], p * p, "var")) {
        release(views, 8);
        return NULL;
    }
    work = malloc(sizeof(double) * 2 * p * p);
    if (work == NULL) {
        free(pr.cell_events);
        release(views, 8);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    iterations = newton(&pr, &rules, views[5].buf, views[6].buf, &loglik, &loglik_start,
                        &converged);
    if (iterations >= 0)
        invert(p, views[6].buf, views[7].buf, cond_limit, work);
    ok = iterations >= 0 && usable(p, views[5].buf, views[7].buf, max_coef);
    Py_END_ALLOW_THREADS
    free(work);
    free(pr.cell_events);
    release(views, 8);
    if (iterations == -2)
        return PyErr_NoMemory();
    return Py_BuildValue("liddi", iterations, converged, loglik, loglik_start, ok);
}

PyDoc_STRVAR(invert_doc, "invert(info, var, p, cond_limit)\n\n"
                         "var = the inverse of the symmetric info (NaN beyond cond_limit).");

static PyObject *invert_py(PyObject *self, PyObject *args)
{
    Py_buffer views[2];
    Py_ssize_t p;
    double cond_limit, *work;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*nd", &views[0], &views[1], &p, &cond_limit))
        return NULL;
    if (p < 1 || check_size(&views[0], p * p, "info") || check_size(&views[1], p * p, "var")) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "p must be positive");
        release(views, 2);
        return NULL;
    }
    work = malloc(sizeof(double) * 2 * p * p);
    if (work == NULL) {
        release(views, 2);
        return PyErr_NoMemory();
    }
    invert(p, views[0].buf, views[1].buf, cond_limit, work);
    free(work);
    release(views, 2);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(evaluate_doc,
             "evaluate(R, D, Z, present, power, B, C, p, efron, max_ratio, beta, score, "
             "info)\n\n"
             "The log-likelihood at beta (returned); score and info are written.");

static PyObject *evaluate_py(PyObject *self, PyObject *args)
{
    Py_buffer views[8];
    Py_ssize_t B, C, p;
    int efron;
    Problem pr;
    double loglik = 0.0, max_ratio;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*nnnpdy*w*w*", &views[0], &views[1], &views[2],
                          &views[3], &views[4], &B, &C, &p, &efron, &max_ratio, &views[5],
                          &views[6], &views[7]))
        return NULL;
    if (setup(&pr, &views[0], &views[1], &views[2], &views[3], &views[4], B, C, p, efron,
              max_ratio) ||
        check_size(&views[5], p, "beta") || check_size(&views[6], p, "score") ||
        check_size(&views[7], p * p, "info")) {
        release(views, 8);
        return NULL;
    }
    evaluate(&pr, views[5].buf, &loglik, views[6].buf, views[7].buf);
    free(pr.cell_events);
    release(views, 8);
    return PyFloat_FromDouble(loglik);
}

PyDoc_STRVAR(count_doc,
             "count_cells(block, cell, event, n_blocks, n_cells, rows, events)\n\n"
             "Adds to rows[b, c] and events[b, c] the rows and the events (event != 0) with "
             "time block b and cell c: block and cell are int64, event is one byte per row, "
             "rows and events are int64 buffers of n_blocks x n_cells. Rows with cell < 0 "
             "are left out; a block or cell out of range is a ValueError.");

static PyObject *count_cells(PyObject *self, PyObject *args)
{
    Py_buffer views[5];
    Py_ssize_t n_blocks, n_cells, n, i, bad = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*nnw*w*", &views[0], &views[1], &views[2], &n_blocks,
                          &n_cells, &views[3], &views[4]))
        return NULL;
    n = views[2].len;
    if (n_blocks < 0 || n_cells < 1 || views[0].len != (Py_ssize_t)sizeof(int64_t) * n ||
        views[1].len != (Py_ssize_t)sizeof(int64_t) * n ||
        views[3].len != (Py_ssize_t)sizeof(int64_t) * n_blocks * n_cells ||
        views[4].len != views[3].len) {
        PyErr_SetString(PyExc_ValueError, "count_cells: buffers of unexpected sizes");
        release(views, 5);
        return NULL;
    }
    {
        const int64_t *block = views[0].buf, *cell = views[1].buf;
        const unsigned char *event = views[2].buf;
        int64_t *rows = views[3].buf, *events = views[4].buf;
        Py_BEGIN_ALLOW_THREADS
        for (i = 0; i < n; i++) {
            const int64_t c = cell[i], b = block[i];
            if (c < 0)
                continue;
            if (c >= n_cells || b < 0 || b >= n_blocks) {
                bad = i;
                break;
            }
            rows[b * n_cells + c] += 1;
            events[b * n_cells + c] += event[i] != 0;
        }
        Py_END_ALLOW_THREADS
    }
    release(views, 5);
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "count_cells: row %zd has a block or cell out of range",
                     bad);
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(fit_arms_doc,
             "fit_arms(at_risk, events, B, L, levels, efron, min_ties, coef, var, loglik, "
             "start, iterations, converged, max_iter, max_halvings, step_tol, loglik_slack, "
             "settle_tol, cond_limit, max_coef)\n\n"
             "fit() of the arm within each level k of levels (int64), at once: the cells 2k "
             "(control) and 2k + 1 (treated) of the B x 2L int64 counts at_risk and events "
             "(those of a survtdm1.cox_cells.CellTable), at their event times, with the "
             "design [[0], [1]] from beta = 0. Writes, per level, coef, var, loglik and "
             "loglik at the start (float64), iterations and converged (int64: converged "
             "and usable, as fit() tells them); iterations "
             "is -1 where a step met an exactly singular information matrix and -3 where "
             "an event time has min_ties events or more (fit() then takes the level, with "
             "its series).");

static PyObject *fit_arms(PyObject *self, PyObject *args)
{
    Py_buffer views[9];
    Py_ssize_t B, L, m, i, b;
    int efron, failed = 0;
    long min_ties;
    Rules rules;
    double cond_limit, max_coef, *scratch;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*nny*plw*w*w*w*w*w*llddddd", &views[0], &views[1], &B, &L,
                          &views[2], &efron, &min_ties, &views[3], &views[4], &views[5],
                          &views[6], &views[7], &views[8], &rules.max_iter,
                          &rules.max_halvings, &rules.step_tol, &rules.loglik_slack,
                          &rules.settle_tol, &cond_limit, &max_coef))
        return NULL;
    m = views[2].len / (Py_ssize_t)sizeof(int64_t);
    if (B < 0 || L < 1 || views[0].len != (Py_ssize_t)sizeof(int64_t) * B * 2 * L ||
        views[1].len != views[0].len || views[2].len != (Py_ssize_t)sizeof(int64_t) * m) {
        PyErr_SetString(PyExc_ValueError, "fit_arms: buffers of unexpected sizes");
        release(views, 9);
        return NULL;
    }
    for (i = 3; i < 9; i++) {
        if (views[i].len != (Py_ssize_t)sizeof(double) * m) {
            PyErr_SetString(PyExc_ValueError, "fit_arms: outputs of unexpected sizes");
            release(views, 9);
            return NULL;
        }
    }
    for (i = 0; i < m; i++) {
        const int64_t k = ((const int64_t *)views[2].buf)[i];
        if (k < 0 || k >= L) {
            PyErr_Format(PyExc_ValueError, "fit_arms: level %lld out of range", (long long)k);
            release(views, 9);
            return NULL;
        }
    }
    /* R and D (B x 2), a power table of zeros (no series), the problem's own scratch
     * (5 C + 2 p = 12 doubles) and invert's (2 p p = 2) */
    scratch = calloc((size_t)(4 * B + B * (TERMS + 3) + 14), sizeof(double));
    if (scratch == NULL) {
        release(views, 9);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    {
        const int64_t *at_risk = views[0].buf, *events = views[1].buf, *levels = views[2].buf;
        double *coef = views[3].buf, *var = views[4].buf, *loglik = views[5].buf;
        double *start = views[6].buf;
        int64_t *iterations = views[7].buf, *converged = views[8].buf;
        double *R = scratch, *D = R + 2 * B, *power = D + 2 * B;
        double *cells = power + B * (TERMS + 3), *invert_work = cells + 12;
        const Py_ssize_t C = 2 * L;
        for (i = 0; i < m; i++) {
            const Py_ssize_t k = (Py_ssize_t)levels[i];
            double Z[2], present[2], n_cell[2], info = 0.0, beta = 0.0, n, mean;
            Py_ssize_t nb = 0;
            int large = 0, done = 0;
            long it;
            /* the level's event times, as CellTable.event_cells selects them */
            for (b = 0; b < B; b++) {
                const int64_t d0 = events[b * C + 2 * k], d1 = events[b * C + 2 * k + 1];
                if (d0 + d1 <= 0)
                    continue;
                large |= d0 + d1 >= min_ties;
                R[2 * nb] = (double)at_risk[b * C + 2 * k];
                R[2 * nb + 1] = (double)at_risk[b * C + 2 * k + 1];
                D[2 * nb] = (double)d0;
                D[2 * nb + 1] = (double)d1;
                nb++;
            }
            coef[i] = var[i] = loglik[i] = start[i] = NAN;
            converged[i] = 0;
            if (large) {
                iterations[i] = -3;
                continue;
            }
            /* everyone is at risk at the first time; the design centred on the rows */
            n_cell[0] = B ? (double)at_risk[2 * k] : 0.0;
            n_cell[1] = B ? (double)at_risk[2 * k + 1] : 0.0;
            n = n_cell[0] + n_cell[1];
            mean = n_cell[1] / (n > 1.0 ? n : 1.0);
            Z[0] = 0.0 - mean;
            Z[1] = 1.0 - mean;
            present[0] = n_cell[0] > 0.0;
            present[1] = n_cell[1] > 0.0;
            {
                Problem pr = {R, D, Z, present, nb, 2, 1, efron, power, 0.0, cells, cells + 2};
                memset(cells, 0, sizeof(double) * 12);
                for (b = 0; b < nb; b++) {
                    cells[0] += D[2 * b];
                    cells[1] += D[2 * b + 1];
                }
                it = newton(&pr, &rules, &beta, &info, &loglik[i], &start[i], &done);
            }
            if (it == -2) {
                failed = 1;
                break;
            }
            iterations[i] = it;
            if (it < 0)
                continue;
            coef[i] = beta;
            invert(1, &info, &var[i], cond_limit, invert_work);
            converged[i] = done && usable(1, &coef[i], &var[i], max_coef);
        }
    }
    Py_END_ALLOW_THREADS
    free(scratch);
    release(views, 9);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

PyDoc_STRVAR(km_columns_doc,
             "km_columns(time, at_risk, events, rows, B, C, conf_type, z, out_time, out_risk, "
             "out_died, out_censored, out_surv, out_std_err, out_lower, out_upper, ends)\n\n"
             "The Kaplan-Meier curve of every column of B x C int64 counts (at risk, events, "
             "rows), at the times where the column has rows, laid end to end column by column "
             "in the float64 outputs (B C doubles each): time, at risk, events, censored, S, "
             "its standard error (NaN where S = 0) and the pointwise limits, conf_type 0 "
             "(plain), 1 (log) or 2 (log-log) with the normal quantile z, with the arithmetic "
             "of survtdm1.km._curve_values and _confidence_limits. ends (C int64) receives "
             "where each curve ends. Returns the number of points.");

/* numpy's maximum and minimum with a constant: NaN stays NaN */
static double np_maximum(double a, double b) { return (a >= b || isnan(a)) ? a : b; }
static double np_minimum(double a, double b) { return (a <= b || isnan(a)) ? a : b; }

/* The limits of S with the SE of log S, as survtdm1.km._confidence_limits (R's
 * survfit_confint) computes them element by element. */
static void km_limits(int conf_type, double z, double surv, double se_log, double *lower,
                      double *upper)
{
    if (conf_type == 0) {
        const double half = z * se_log * surv;
        *lower = np_maximum(surv - half, 0.0);
        *upper = np_minimum(surv + half, 1.0);
    } else if (conf_type == 1) {
        const double s = surv > 0.0 ? surv : NAN;
        *lower = s * exp(-z * se_log);
        *upper = np_minimum(s * exp(z * se_log), 1.0);
    } else {
        const double log_s = log((surv > 0.0 && surv < 1.0) ? surv : NAN);
        const double loglog = log(-log_s), half = z * se_log / log_s;
        *lower = exp(-exp(loglog - half));
        *upper = exp(-exp(loglog + half));
    }
}

static PyObject *km_columns(PyObject *self, PyObject *args)
{
    Py_buffer views[13];
    Py_ssize_t B, C, b, c, total = 0, i;
    int conf_type;
    double z;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnidw*w*w*w*w*w*w*w*w*", &views[0], &views[1],
                          &views[2], &views[3], &B, &C, &conf_type, &z, &views[4], &views[5],
                          &views[6], &views[7], &views[8], &views[9], &views[10], &views[11],
                          &views[12]))
        return NULL;
    if (B < 0 || C < 1 || conf_type < 0 || conf_type > 2 ||
        views[0].len != (Py_ssize_t)sizeof(double) * B ||
        views[12].len != (Py_ssize_t)sizeof(int64_t) * C) {
        PyErr_SetString(PyExc_ValueError, "km_columns: buffers of unexpected sizes");
        release(views, 13);
        return NULL;
    }
    for (i = 1; i < 12; i++) {
        if (views[i].len != (Py_ssize_t)sizeof(double) * B * C) { /* int64 or float64 */
            PyErr_SetString(PyExc_ValueError, "km_columns: buffers of unexpected sizes");
            release(views, 13);
            return NULL;
        }
    }
    {
        const double *time = views[0].buf;
        const int64_t *at_risk = views[1].buf, *events = views[2].buf, *rows = views[3].buf;
        double *t = views[4].buf, *risk = views[5].buf, *died = views[6].buf;
        double *censored = views[7].buf, *surv = views[8].buf, *std_err = views[9].buf;
        double *lower = views[10].buf, *upper = views[11].buf;
        int64_t *ends = views[12].buf;
        Py_BEGIN_ALLOW_THREADS
        for (c = 0; c < C; c++) {
            const Py_ssize_t first = total;
            double s = 1.0, variance = 0.0;
            for (b = 0; b < B; b++) {
                const int64_t n_rows = rows[b * C + c];
                double r, d, increment, se_log;
                if (n_rows <= 0)
                    continue;
                r = (double)at_risk[b * C + c];
                d = (double)events[b * C + c];
                t[total] = time[b];
                risk[total] = r;
                died[total] = d;
                censored[total] = (double)(n_rows - events[b * C + c]);
                /* the running products and sums of numpy's cumprod and cumsum */
                s *= 1.0 - d / r;
                increment = r > d ? d / (r * (r - d)) : (d > 0.0 ? INFINITY : 0.0);
                variance += increment;
                surv[total] = s;
                se_log = sqrt(variance);
                std_err[total] = s > 0.0 ? s * se_log : NAN;
                if (d > 0.0 || total == first) {
                    km_limits(conf_type, z, s, se_log, &lower[total], &upper[total]);
                } else { /* censorings only: S and its SE, hence the limits, as before */
                    lower[total] = lower[total - 1];
                    upper[total] = upper[total - 1];
                }
                total++;
            }
            ends[c] = total;
        }
        Py_END_ALLOW_THREADS
    }
    release(views, 13);
    return PyLong_FromSsize_t(total);
}

PyDoc_STRVAR(km_summaries_doc,
             "km_summaries(time, surv, ends, p, tol, landmark, quantiles, at_landmark)\n\n"
             "For curves laid end to end (as km_columns gives them; float64 time and surv, "
             "int64 ends): the p quantile of each, as survtdm1.km._segment_quantiles reads "
             "it from the curve with the point (0, 0) before its first time (NaN for a curve "
             "without times), and S at the time landmark as survtdm1.km.survival_at (1 "
             "before the first time, NaN after the last; all NaN for a NaN landmark).");

static PyObject *km_summaries(PyObject *self, PyObject *args)
{
    Py_buffer views[5];
    Py_ssize_t C, c, j, start = 0, total;
    double p, tol, landmark;
    int bad = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*dddw*w*", &views[0], &views[1], &views[2], &p, &tol,
                          &landmark, &views[3], &views[4]))
        return NULL;
    C = views[2].len / (Py_ssize_t)sizeof(int64_t);
    total = views[0].len / (Py_ssize_t)sizeof(double);
    if (views[1].len != views[0].len || views[2].len != (Py_ssize_t)sizeof(int64_t) * C ||
        views[3].len != (Py_ssize_t)sizeof(double) * C || views[4].len != views[3].len) {
        PyErr_SetString(PyExc_ValueError, "km_summaries: buffers of unexpected sizes");
        release(views, 5);
        return NULL;
    }
    {
        const double *time = views[0].buf, *surv = views[1].buf;
        const int64_t *ends = views[2].buf;
        double *quantiles = views[3].buf, *at_landmark = views[4].buf;
        for (c = 0; c < C; c++) {
            const Py_ssize_t end = (Py_ssize_t)ends[c];
            Py_ssize_t reach = -1, past = -1;
            double x_reach = 0.0, x_past = 0.0, y_last = 0.0, x_last = 0.0, q = NAN;
            if (end < start || end > total) {
                bad = 1;
                break;
            }
            at_landmark[c] = NAN;
            if (end == start) {
                quantiles[c] = NAN;
                continue;
            }
            /* the points (0, 0), then (time, 1 - S): y rises, so the first point at or
             * past a threshold is the first occurrence of its value */
            for (j = start - 1; j < end; j++) {
                const double x = j < start ? 0.0 : time[j], y = j < start ? 0.0 : 1.0 - surv[j];
                if (reach < 0 && y + tol >= p) {
                    reach = j;
                    x_reach = x;
                }
                if (past < 0 && y - tol >= p) {
                    past = j;
                    x_past = x;
                }
                x_last = x;
                y_last = y;
            }
            if (reach >= 0 && past >= 0)
                q = (x_reach + x_past) / 2.0;
            if (reach >= 0 && fabs(p - y_last) < tol)
                q = (x_reach + x_last) / 2.0;
            quantiles[c] = y_last < p ? NAN : q;
            if (!isnan(landmark) && !(landmark > time[end - 1])) {
                Py_ssize_t k = start;
                while (k < end && time[k] <= landmark)
                    k++;
                at_landmark[c] = k == start ? 1.0 : surv[k - 1];
            }
            start = end;
        }
    }
    release(views, 5);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "km_summaries: ends out of order");
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(event_rows_doc,
             "event_rows(at_risk, events, B, C, R, D, size, risk)\n\n"
             "The rows of B x C int64 counts at risk and events that have events, as float64 "
             "into R and D (B x C buffers, filled from the top), with their numbers of "
             "events and at risk summed over the cells into size and risk (B doubles). "
             "Returns how many rows were written.");

static PyObject *event_rows(PyObject *self, PyObject *args)
{
    Py_buffer views[6];
    Py_ssize_t B, C, b, c, nb = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*nnw*w*w*w*", &views[0], &views[1], &B, &C, &views[2],
                          &views[3], &views[4], &views[5]))
        return NULL;
    if (B < 0 || C < 1 || views[0].len != (Py_ssize_t)sizeof(int64_t) * B * C ||
        views[1].len != views[0].len || views[2].len != views[0].len ||
        views[3].len != views[0].len || views[4].len != (Py_ssize_t)sizeof(double) * B ||
        views[5].len != views[4].len) {
        PyErr_SetString(PyExc_ValueError, "event_rows: buffers of unexpected sizes");
        release(views, 6);
        return NULL;
    }
    {
        const int64_t *at_risk = views[0].buf, *events = views[1].buf;
        double *R = views[2].buf, *D = views[3].buf, *size = views[4].buf;
        double *risk = views[5].buf;
        for (b = 0; b < B; b++) {
            double d = 0.0, r = 0.0;
            int any = 0;
            for (c = 0; c < C; c++)
                any |= events[b * C + c] != 0;
            if (!any)
                continue;
            for (c = 0; c < C; c++) { /* summed cell by cell, as cox_cells.row_sums */
                R[nb * C + c] = (double)at_risk[b * C + c];
                D[nb * C + c] = (double)events[b * C + c];
                r += R[nb * C + c];
                d += D[nb * C + c];
            }
            size[nb] = d;
            risk[nb] = r;
            nb++;
        }
    }
    release(views, 6);
    return PyLong_FromSsize_t(nb);
}

PyDoc_STRVAR(count_levels_doc,
             "count_levels(block, codes, treated, event, n_blocks, n_levels, rows, events, "
             "at_risk)\n\n"
             "count_cells() of the cells arm + 2 level of a subgroup: rows[b, c] and "
             "events[b, c] receive the rows and events (event != 0) with time block b "
             "(int64) in cell c = treated + 2 codes (treated float64 0/1, codes int64, -1 "
             "where missing: left out), and at_risk[b, c] the rows of cell c with a block "
             "b or later; the outputs are int64 buffers of n_blocks x 2 n_levels, zeroed "
             "here. A block, level or arm out of range is a ValueError.");

static PyObject *count_levels(PyObject *self, PyObject *args)
{
    Py_buffer views[7];
    Py_ssize_t n_blocks, n_levels, n_cells, n, i, bad = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnw*w*w*", &views[0], &views[1], &views[2],
                          &views[3], &n_blocks, &n_levels, &views[4], &views[5], &views[6]))
        return NULL;
    n = views[3].len;
    n_cells = 2 * n_levels;
    if (n_blocks < 0 || n_levels < 1 || views[0].len != (Py_ssize_t)sizeof(int64_t) * n ||
        views[1].len != (Py_ssize_t)sizeof(int64_t) * n ||
        views[2].len != (Py_ssize_t)sizeof(double) * n ||
        views[4].len != (Py_ssize_t)sizeof(int64_t) * n_blocks * n_cells ||
        views[5].len != views[4].len || views[6].len != views[4].len) {
        PyErr_SetString(PyExc_ValueError, "count_levels: buffers of unexpected sizes");
        release(views, 7);
        return NULL;
    }
    {
        const int64_t *block = views[0].buf, *codes = views[1].buf;
        const double *treated = views[2].buf;
        const unsigned char *event = views[3].buf;
        int64_t *rows = views[4].buf, *events = views[5].buf, *at_risk = views[6].buf;
        Py_ssize_t b, c;
        Py_BEGIN_ALLOW_THREADS
        memset(rows, 0, sizeof(int64_t) * n_blocks * n_cells);
        memset(events, 0, sizeof(int64_t) * n_blocks * n_cells);
        for (i = 0; i < n; i++) {
            const int64_t level = codes[i], b_i = block[i];
            int64_t cell;
            if (level < 0)
                continue;
            cell = (int64_t)treated[i] + 2 * level; /* numpy's astype(int64) of 0.0, 1.0 */
            if (level >= n_levels || !(treated[i] == 0.0 || treated[i] == 1.0) || b_i < 0 ||
                b_i >= n_blocks) {
                bad = i;
                break;
            }
            rows[b_i * n_cells + cell] += 1;
            events[b_i * n_cells + cell] += event[i] != 0;
        }
        /* at risk: the rows of a cell at this block or later, summed from the last */
        for (b = n_blocks - 1; b >= 0; b--) {
            const int64_t *later = b + 1 < n_blocks ? at_risk + (b + 1) * n_cells : NULL;
            for (c = 0; c < n_cells; c++)
                at_risk[b * n_cells + c] = rows[b * n_cells + c] + (later ? later[c] : 0);
        }
        Py_END_ALLOW_THREADS
    }
    release(views, 7);
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError,
                     "count_levels: row %zd has a block, level or arm out of range", bad);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fit", fit, METH_VARARGS, fit_doc},
    {"evaluate", evaluate_py, METH_VARARGS, evaluate_doc},
    {"invert", invert_py, METH_VARARGS, invert_doc},
    {"count_cells", count_cells, METH_VARARGS, count_doc},
    {"fit_arms", fit_arms, METH_VARARGS, fit_arms_doc},
    {"km_columns", km_columns, METH_VARARGS, km_columns_doc},
    {"km_summaries", km_summaries, METH_VARARGS, km_summaries_doc},
    {"event_rows", event_rows, METH_VARARGS, event_rows_doc},
    {"count_levels", count_levels, METH_VARARGS, count_levels_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cellfit",
    "Compiled Cox fits from counts by cell and event time (see survtdm1.cox_cells).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__cellfit(void) { return PyModule_Create(&module); }
