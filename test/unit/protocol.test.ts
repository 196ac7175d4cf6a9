import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityPlan, isIdentityPlan } from '../../protocol';

test('identity plan is recognised, modified plans are not', () => {
  const p = identityPlan(4);
  assert.equal(p.slots.length, 4);
  assert.ok(isIdentityPlan(p, 4));
  assert.ok(isIdentityPlan(undefined, 4));
  assert.ok(!isIdentityPlan({ slots: p.slots.slice(1) }, 4));
  assert.ok(!isIdentityPlan({ slots: p.slots.map((s, i) => (i === 2 ? { ...s, mlp: false } : s)) }, 4));
  assert.ok(!isIdentityPlan({ slots: [p.slots[1], p.slots[0], ...p.slots.slice(2)] }, 4));
  assert.ok(!isIdentityPlan({ ...p, exitAfter: 1 }, 4));
});
