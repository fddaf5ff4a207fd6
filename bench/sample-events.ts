/** Event data shaped like what the service writes, for scenarios that fill a store directly. */
export function sampleSpendData(i: number, workspaceId = `ws-${i % 1000}`, consumedAt = new Date().toISOString()) {
  return {
    workspaceId,
    consumptionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    idempotencyKey: `run-${i}`,
    action: 'PERSON_ENRICHMENT',
    units: 1,
    creditsPerUnit: 7,
    credits: 7,
    drawdown: [{ grantId: `grant-${workspaceId}`, source: 'PROMOTIONAL', credits: 7 }],
    availableAfter: 1_000_000_000 - 7 * (i + 1),
    actorId: `member-${i % 25}`,
    consumedAt,
  };
}

export function sampleGrantData(workspaceId: string, grantedAt: string) {
  return {
    workspaceId,
    grantId: `grant-${workspaceId}`,
    idempotencyKey: 'bench-seed',
    credits: 1_000_000_000,
    reason: 'benchmark',
    grantedBy: 'bench',
    grantedAt,
  };
}
