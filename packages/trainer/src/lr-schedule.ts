/** Parameters of `learningRateAt` (GPT-NeoX `AnnealingLR` with `lr-decay-style: cosine`). */
export interface LearningRateSchedule {
  /** Peak learning rate (`optimizer.params.lr`). */
  maxLr: number;
  /** Floor (`min_lr`, 0.1 × maxLr in every Pythia config). */
  minLr: number;
  /** Decay iterations E (`lr-decay-iters` = `train-iters` in Pythia). */
  decaySteps: number;
  /** Warmup as a fraction of `decaySteps` (`warmup`, 0.01 in Pythia). */
  warmupFraction: number;
}

/**
 * The learning rate after `n` scheduler steps, exactly as GPT-NeoX computes it: linear warmup from 0
 * over W = warmupFraction·E steps, then `maxLr/2·(1 + cos(π·p/E))` with p = min(n, E − W) − W — note the
 * division by E, not E − W — floored at `minLr` (the warmup is not floored). So lr(0) = 0 (the first
 * update changes nothing) and, for Pythia, the floor binds from step 115139 on.
 */
export function learningRateAt(n: number, schedule: LearningRateSchedule): number {
  const warmup = schedule.warmupFraction * schedule.decaySteps;
  const clamped = Math.min(n, schedule.decaySteps - warmup);
  if (warmup > 0 && n <= warmup) {
    // GPT-NeoX returns here, before the min_lr floor: warmup starts at exactly 0.
    return (schedule.maxLr * clamped) / warmup;
  }
  const progress = clamped - warmup;
  const lr = (schedule.maxLr / 2) * (1 + Math.cos((Math.PI * progress) / schedule.decaySteps));
  return Math.max(lr, schedule.minLr);
}
