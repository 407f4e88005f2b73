import { describe, expect, it } from 'vitest';

import { parseCpuList } from '../../bench/cpu-affinity.js';

describe('parseCpuList', () => {
  it('expands single CPUs and ranges in order', () => {
    expect(parseCpuList('0-1')).toEqual([0, 1]);
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5')).toEqual([5]);
  });

  it('rejects text that is not a CPU list', () => {
    expect(() => parseCpuList('0-1,x')).toThrow('is not a CPU list');
    expect(() => parseCpuList('')).toThrow('is not a CPU list');
  });
});
