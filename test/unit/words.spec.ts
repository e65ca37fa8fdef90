import { expect, test } from '@playwright/test';
import { counted } from '../../protocol/words.ts';

test('a counted noun takes its number: one, none, many, an irregular plural, a bigint', () => {
  expect(counted(1, 'case')).toBe('1 case');
  expect(counted(0, 'case')).toBe('0 cases');
  expect(counted(3, 'Rejoin Request')).toBe('3 Rejoin Requests');
  expect(counted(1, 'entry', 'entries')).toBe('1 entry');
  expect(counted(2, 'entry', 'entries')).toBe('2 entries');
  expect(counted(1n, 'byte')).toBe('1 byte');
  expect(counted(1.5, 'hour')).toBe('1.5 hours');
});
