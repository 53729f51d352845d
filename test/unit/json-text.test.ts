import { compactJsonText, memberTexts } from '../../src/json-text';
import { MAX_DATA_DEPTH, parsePublishBody } from '../../src/publish-body';

describe('memberTexts', () => {
  it('returns each top-level member as sent, the last of a repeated key, with its nesting depth', () => {
    const members = memberTexts(' { "event" : "x" , "data": {"a":[1, {"b":"}]\\""}]} ,"data" : [ 9007199254740993 ] } ');
    expect(members.get('event')).toEqual({ text: '"x"', depth: 0 });
    expect(members.get('data')).toEqual({ text: '[ 9007199254740993 ]', depth: 1 });
  });

  it('reads scalars up to the next separator', () => {
    const members = memberTexts('{"a":-1.5e+300,"b":true,"c":null,"d":"s"}');
    expect([...members.values()].map((member) => member.text)).toEqual(['-1.5e+300', 'true', 'null', '"s"']);
  });
});

describe('compactJsonText', () => {
  it('drops whitespace between tokens and keeps it inside strings', () => {
    expect(compactJsonText('{\n  "a" : [ 1 ,\t2 ],\r\n "b": "x  y\\n" }')).toBe('{"a":[1,2],"b":"x  y\\n"}');
  });
});

describe('parsePublishBody with the body text', () => {
  it('passes numbers beyond double precision through exactly', () => {
    const text = '{"data": {"id": 12345678901234567890, "price": 0.1000000000000000055511151231257827}}';
    expect(parsePublishBody(JSON.parse(text), text).dataJson).toBe('{"id":12345678901234567890,"price":0.1000000000000000055511151231257827}');
  });

  it(`refuses data nested deeper than ${MAX_DATA_DEPTH} levels with invalid_event`, () => {
    const deep = `{"data":${'['.repeat(MAX_DATA_DEPTH + 1)}${']'.repeat(MAX_DATA_DEPTH + 1)}}`;
    expect(() => parsePublishBody(JSON.parse(deep), deep)).toThrow(/nested too deeply/);
    const deepest = `{"data":${'['.repeat(MAX_DATA_DEPTH)}${']'.repeat(MAX_DATA_DEPTH)}}`;
    expect(parsePublishBody(JSON.parse(deepest), deepest).dataJson).toHaveLength(2 * MAX_DATA_DEPTH);
  });
});
