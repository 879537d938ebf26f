// Which controller an agent talks to (src/agent/failover.ts): the list a check-in reply names.
import t from 'tap';
import { MeshError } from '../../src/core/errors.ts';
import { firstAnswering, newControllerList } from '../../src/agent/failover.ts';

t.test('a check-in reply updates the controller list, keeping the one in use', async (t) => {
  t.same(newControllerList(['a:1'], ['a:1', 'b:1'], 'a:1'), ['a:1', 'b:1'], 'a controller added');
  t.equal(newControllerList(['a:1', 'b:1'], ['a:1', 'b:1'], 'a:1'), undefined, 'nothing new');
  t.same(newControllerList(['x:1'], ['a:1', 'b:1'], 'x:1'), ['x:1', 'a:1', 'b:1'], 'the address in use stays, first');
  t.equal(newControllerList(['a:1'], [], 'a:1'), undefined, 'an older controller names none');
  t.equal(newControllerList(['a:1'], ['a:1', 'b c:1'], 'a:1'), undefined, 'an unsound list is ignored');
});

t.test('firstAnswering: in order from the one that answered last; an answer that is an error ends the search', async (t) => {
  const tried: string[] = [];
  const down = (s: string) => { tried.push(s); return Promise.reject(new MeshError('UNREACHABLE', `cannot reach ${s}`)); };
  const r = await firstAnswering(['a:1', 'b:1', 'c:1'], (s) => (s === 'c:1' ? Promise.resolve(s) : down(s)), 'b:1');
  t.same(r, { server: 'c:1', result: 'c:1' });
  t.same(tried, ['b:1'], 'started at the one that answered last');
  await t.rejects(firstAnswering(['a:1', 'b:1'], () => Promise.reject(new MeshError('KEY_USED_UP', 'used up'))), { code: 'KEY_USED_UP' });
  await t.rejects(firstAnswering(['a:1', 'b:1'], down), /none of the 2 controllers answered/);
});
