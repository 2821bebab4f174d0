/**
 * Small numerical helpers: log-gamma (Lanczos), the regularised upper incomplete gamma function
 * (Numerical Recipes' series / continued fraction), the chi-square survival function, and the
 * Poisson pmf, cdf and quantile.
 */

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) {
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) {
    a += (LANCZOS[i] as number) / (z + i + 1);
  }
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) {
    return 1;
  }
  const gln = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) {
        break;
      }
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - gln));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) {
      d = tiny;
    }
    c = b + an / c;
    if (Math.abs(c) < tiny) {
      c = tiny;
    }
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) {
      break;
    }
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

/** P(χ²_df ≥ statistic). */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  return gammaQ(degreesOfFreedom / 2, statistic / 2);
}

/** P(X = k) for X ~ Poisson(λ). */
export function poissonPmf(k: number, lambda: number): number {
  if (lambda === 0) {
    return k === 0 ? 1 : 0;
  }
  return Math.exp(k * Math.log(lambda) - lambda - logGamma(k + 1));
}

/** P(X ≤ k) for X ~ Poisson(λ). */
export function poissonCdf(k: number, lambda: number): number {
  let total = 0;
  for (let i = 0; i <= k; i++) {
    total += poissonPmf(i, lambda);
  }
  return Math.min(1, total);
}

/** The smallest k with P(X ≤ k) ≥ p (scipy's `poisson.ppf`). */
export function poissonQuantile(p: number, lambda: number): number {
  let k = 0;
  let cumulative = poissonPmf(0, lambda);
  while (cumulative < p - 1e-12 && k < 1e7) {
    k++;
    cumulative += poissonPmf(k, lambda);
  }
  return k;
}
